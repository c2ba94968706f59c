/**
 * A trainer that does no training: just enough of trainer API v1 (health,
 * forward_backward, optim_step, checkpoints, weights/send) to let the
 * orchestrator run, answering at once with schema-valid bodies. It notes when
 * each request arrived (`performance.timeOrigin + performance.now()`, the
 * same clock as BullMQ's `finishedOn` on this host, at sub-ms resolution), so
 * the bench can measure step turnaround.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDifferadError } from '@differad/core';
import { createErrorHandler, DEFAULT_MAX_BODY_BYTES, HTTP_BODY_TOO_LARGE, readBodyBytes, startServer } from '@differad/http-server';
import {
  type CheckpointResponse,
  type ForwardBackwardResponse,
  type HealthResponse,
  type OptimStepResponse,
  PACKED_COMPLETIONS,
  type SendWeightsResponse,
} from '@differad/trainer-client';
import { type Context, Hono } from 'hono';

/** One request as it arrived. */
export interface TrainerArrival {
  readonly route: string;
  readonly run: string | null;
  readonly step: number | null;
  /** Epoch ms (fractional) when the request's headers arrived. */
  readonly at: number;
  /** Bytes of the request body. */
  readonly bytes: number;
}

/** Options of {@link startNoopTrainer}. */
export interface NoopTrainerOptions {
  /** Largest request body accepted (default 64 MiB, like the CPU trainer); a larger one gets 413 TRAINER_BODY_TOO_LARGE. */
  readonly maxBodyBytes?: number;
}

export interface NoopTrainer {
  readonly url: string;
  readonly arrivals: TrainerArrival[];
  /** Forgets every run, as a restarted trainer would: a new run checks that its trainer holds no other run. */
  reset(): void;
  close(): Promise<void>;
}

const now = () => performance.timeOrigin + performance.now();

// The trainer client serializes the schema's fields in order, so a forward_backward body starts with these.
const FORWARD_HEAD = /^\{"run":"([^"]+)","step":(\d+),"micro_batch":(\d+)/;

/**
 * The request body as far as the answers need it. A forward_backward body
 * (hundreds of KB of base64 images) is not parsed whole: only its head, and
 * its completions are counted, so the trainer double costs the orchestrator's
 * process next to nothing.
 */
function toBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  const head = FORWARD_HEAD.exec(raw.subarray(0, 200).toString('utf8'));
  if (!head) return JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  let sequences = 0;
  for (let at = raw.indexOf('"advantage":'); at >= 0; at = raw.indexOf('"advantage":', at + 1)) sequences++;
  return { run: head[1], step: Number(head[2]), micro_batch: Number(head[3]), sequences };
}

/** Starts the no-op trainer on 127.0.0.1 (free port). */
export async function startNoopTrainer(options: NoopTrainerOptions = {}): Promise<NoopTrainer> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const arrivals: TrainerArrival[] = [];
  let run: string | null = null;
  let lastStep: number | null = null;
  let version = 0;
  const applied = new Map<string, number>();
  // A disk sync makes the servers reload from the folder the send names, and the
  // fake vLLM, like vLLM's loader, fails on a folder that is not there.
  const weightsDir = await mkdtemp(join(tmpdir(), 'differad-noop-weights-'));

  const reply = (c: Context, body: unknown) => c.json(body);

  const handle = async (c: Context, at: number) => {
    const route = `${c.req.method} ${c.req.path}`;
    const raw = await readBodyBytes(c, { maxBytes: maxBodyBytes });
    const body = toBody(raw);
    const bodyRun = typeof body.run === 'string' ? body.run : null;
    const bodyStep = typeof body.step === 'number' ? body.step : null;
    arrivals.push({ route, run: bodyRun, step: bodyStep, at, bytes: raw.length });
    switch (route) {
      case 'GET /v1/health':
        return reply(c, {
          status: 'ok',
          api_version: 'v1',
          backend: 'noop',
          model: 'noop',
          world_size: 1,
          run,
          step: lastStep,
          weight_version: version,
          pending: null,
          features: [PACKED_COMPLETIONS],
        } satisfies HealthResponse);
      case 'POST /v1/forward_backward': {
        run = bodyRun;
        const sequences = body.sequences as number;
        return reply(c, {
          run: bodyRun!,
          step: bodyStep!,
          micro_batch: body.micro_batch as number,
          duplicate: false,
          loss: 0,
          clip_fraction: 0,
          kl: null,
          sequences,
          tokens: sequences,
          masked: { truncated: 0, unscorable: 0 },
          prompt_tokens_match: null,
        } satisfies ForwardBackwardResponse);
      }
      case 'POST /v1/optim_step': {
        const key = `${bodyRun}/${bodyStep}`;
        const duplicate = applied.has(key);
        if (!duplicate) applied.set(key, ++version);
        lastStep = bodyStep;
        return reply(c, {
          run: bodyRun!,
          step: bodyStep!,
          applied: !duplicate,
          duplicate,
          grad_norm: 0,
          weight_version: applied.get(key)!,
          micro_batches: 0,
          sequences: 0,
        } satisfies OptimStepResponse);
      }
      case 'POST /v1/checkpoints':
        return reply(c, {
          run: bodyRun!,
          step: bodyStep!,
          weight_version: version,
          path: `/noop/${bodyRun}/step-${bodyStep}.json`,
        } satisfies CheckpointResponse);
      case 'POST /v1/weights/send': {
        const path = join(weightsDir, `weights-v${String(body.version)}.json`);
        await writeFile(path, '{}');
        return reply(c, { backend: 'disk', version: body.version as number, path, bytes: 2 } satisfies SendWeightsResponse);
      }
      default:
        return c.json({ error: { code: 'TRAINER_NOT_FOUND', message: route } }, 404);
    }
  };

  const app = new Hono();
  app.onError(
    createErrorHandler({
      toReply: (error) =>
        isDifferadError(error, HTTP_BODY_TOO_LARGE)
          ? { status: 413, body: { error: { code: 'TRAINER_BODY_TOO_LARGE', message: error.message, details: { limit: maxBodyBytes } } } }
          : { status: 500, body: { error: { code: 'TRAINER_INTERNAL', message: String(error) } } },
    }),
  );
  app.all('*', (c) => handle(c, now()));
  const server = await startServer(app, { closeGraceMs: 0 });
  return {
    url: server.url,
    arrivals,
    reset() {
      run = null;
      lastStep = null;
      version = 0;
      applied.clear();
      arrivals.length = 0;
    },
    async close() {
      await server.close();
      await rm(weightsDir, { recursive: true, force: true });
    },
  };
}
