import { createRng, DEFAULT_CPU_POLICY, DifferadError, type GaussianPolicy, type Rng } from '@differad/core';
import { DEFAULT_MAX_BODY_BYTES, type RunningServer, startServer } from '@differad/http-server';
import {
  type ChatInput,
  type ChatOutcome,
  createVllmServerKit,
  openAiError,
  toTokenPieces,
  type VllmKitEnv,
  type VllmServerKit,
} from '@differad/inference';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { loadCpuPolicy } from './policy-file.js';
import { answerPairRequest, computeAnomalyMap, decodeDataUrl } from './policy-engine.js';

/** The model name the built-in policy serves. */
export const CPU_POLICY_MODEL = 'differad-cpu';

/** Options of {@link CpuPolicyServer.start}. */
export interface CpuPolicyOptions {
  readonly host?: string;
  readonly port?: number;
  readonly model?: string;
  /** Requests answered at once (each decodes two images and runs n detections). */
  readonly slots?: number;
  /** Initial policy (default DEFAULT_CPU_POLICY). */
  readonly policy?: GaussianPolicy;
  /** Seed for requests that carry none. */
  readonly seed?: number;
  /** Largest request body accepted (default 64 MiB); a larger one gets 413. */
  readonly maxBodyBytes?: number;
}

const DataUrl = z.string().regex(/^data:image\/[a-z0-9.+-]+;base64,/i, 'must be a data:image/...;base64 URL');
const AnomalyMapRequestSchema = z.object({ reference: DataUrl, target: DataUrl });

/** A 400 for image problems (the client's input), a 500 otherwise. */
function imageFailure(c: Context, error: unknown, param: string): Response {
  const status = error instanceof DifferadError && error.code.startsWith('IMAGE_') ? 400 : 500;
  return openAiError(c, status, (error as Error).message, status === 400 ? param : null);
}

/** A 400 naming the first wrong field, in vLLM's shape. */
function invalidRequest(c: Context, error: z.ZodError): Response {
  const issue = error.issues[0];
  return openAiError(c, 400, z.prettifyError(error), issue ? issue.path.join('.') : null);
}

/**
 * The built-in CPU policy behind an OpenAI-compatible API (model
 * `differad-cpu`): answers a paired-image chat request with n completions of
 * the reference-difference detector, its parameters sampled from a Gaussian
 * policy. It is the answer engine of the vLLM server kit (@differad/inference),
 * so it speaks vLLM 0.32.0's protocol as the fake vLLM does
 * (docs/vllm-protocol.md): training pushes new parameters with pause →
 * `collective_rpc reload_weights {weights_path}` (a policy file) → resume, and a
 * failed reload leaves it unusable until a good one, as vLLM. It has no
 * weight-transfer engine (vLLM without `--weight-transfer-config`), so an nccl
 * init is refused as vLLM refuses it. As a non-LLM baseline it also serves
 * `POST /v1/anomaly_map {reference, target}`.
 */
export class CpuPolicyServer {
  private policy: GaussianPolicy;
  private readonly rng: Rng;
  private counter = 0;
  private readonly kit: VllmServerKit;
  private running: RunningServer | null = null;
  /** The Hono app (servable without a socket through `app.request()`). */
  readonly app: Hono<VllmKitEnv>;

  private constructor(
    private readonly model: string,
    options: CpuPolicyOptions,
  ) {
    this.policy = options.policy ?? DEFAULT_CPU_POLICY;
    this.rng = createRng(`cpu-policy:${options.seed ?? 0}`);
    const initial = this.policy;
    this.kit = createVllmServerKit({
      name: 'cpu-policy',
      model,
      maxModelLen: 4096,
      slots: options.slots ?? 2,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      // Its log-probs are those of the distribution sampled from, at the request's temperature.
      logprobsMode: 'processed_logprobs',
      nextId: () => `cpu-${this.running?.port ?? 0}-${++this.counter}`,
      engine: {
        check: (input) =>
          input.images.length === 2
            ? null
            : { message: `the CPU policy needs exactly two images (reference, target), got ${input.images.length}`, param: 'messages' },
        plan: (input) => {
          const seed = input.request.seed ?? this.rng.int(0, 2 ** 31);
          return { kind: 'run', run: () => this.answer(input, seed) };
        },
        reloadWeights: async (path) => {
          this.policy = path === null ? initial : await loadCpuPolicy(path);
        },
        weightVersion: () => this.policy.version,
      },
      routes: (app) => app.post('/v1/anomaly_map', (c) => this.handleAnomalyMap(c, c.get('json'))),
    });
    this.app = this.kit.app;
  }

  /** Binds (127.0.0.1 and a free port unless told otherwise) and resolves once listening. */
  static async start(options: CpuPolicyOptions = {}): Promise<CpuPolicyServer> {
    const policy = new CpuPolicyServer(options.model ?? CPU_POLICY_MODEL, options);
    policy.running = await startServer(policy.app, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    return policy;
  }

  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    return this.bound().url;
  }

  /** The port the server listens on. */
  get port(): number {
    return this.bound().port;
  }

  /** The policy answering now. */
  get currentPolicy(): GaussianPolicy {
    return this.policy;
  }

  /** The served model name. */
  get modelName(): string {
    return this.model;
  }

  /** Stops listening, lets in-flight requests finish and closes the connections. */
  async close(): Promise<void> {
    await this.running?.close();
  }

  private bound(): RunningServer {
    if (!this.running) throw new Error('the CPU policy server is not listening');
    return this.running;
  }

  private async handleAnomalyMap(c: Context, body: unknown): Promise<Response> {
    const parsed = AnomalyMapRequestSchema.safeParse(body);
    if (!parsed.success) return invalidRequest(c, parsed.error);
    const ticket = await this.kit.admit(1);
    const policy = this.policy;
    try {
      const map = await computeAnomalyMap(policy, decodeDataUrl(parsed.data.reference), decodeDataUrl(parsed.data.target));
      return c.json(map, 200, { 'x-weight-version': String(policy.version) });
    } catch (error) {
      return imageFailure(c, error, 'target');
    } finally {
      ticket.release();
    }
  }

  /**
   * Answers an admitted request with the policy loaded now (a request held by /pause is answered by the
   * policy the reload installed). The whole sample's log-probability rides on the first token and the
   * rest carry 0, so summing a completion's token log-probs gives log π(sample).
   */
  private async answer(input: ChatInput, seed: number): Promise<ChatOutcome> {
    const policy = this.policy;
    try {
      const answers = await answerPairRequest(policy, {
        referenceImage: decodeDataUrl(input.images[0]!),
        targetImage: decodeDataUrl(input.images[1]!),
        n: input.request.n ?? 1,
        seed,
        temperature: input.request.temperature ?? 1,
      });
      const choices = answers.map((a) => ({ tokens: toTokenPieces(a.text).map((p, k) => ({ ...p, logprob: k === 0 ? a.logprob : 0 })) }));
      return { kind: 'answer', choices, weightVersion: policy.version };
    } catch (error) {
      const client = error instanceof DifferadError && error.code.startsWith('IMAGE_');
      return { kind: 'error', status: client ? 400 : 500, message: (error as Error).message, param: client ? 'messages' : null };
    }
  }
}
