import { createRng, DEFAULT_CPU_POLICY, DifferadError, type GaussianPolicy, type Rng } from '@differad/core';
import { DEFAULT_MAX_BODY_BYTES, readBodyText, type RunningServer, startServer } from '@differad/http-server';
import {
  createOpenAiErrorHandler,
  createVllmDevRoutes,
  formatLoadMetrics,
  openAiError,
  ServedChatRequestSchema,
  SlotScheduler,
  type SlotTicket,
  toChatInputs,
  type VllmDevRoutes,
} from '@differad/inference';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { toChatCompletionBody } from './chat-answer.js';
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

/** The parsed JSON body of a POST (null when empty), set before its route runs. */
type PolicyEnv = { Variables: { json: unknown } };

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
 * policy. Speaks vLLM's protocol: `/v1/chat/completions` (logprobs, token
 * ids, max_tokens), `/v1/models`, `/health`, `/metrics`, and vLLM 0.32.0's
 * dev-mode control routes through the same implementation as the fake vLLM
 * (docs/vllm-protocol.md §4): training pushes new parameters with pause →
 * `collective_rpc reload_weights {weights_path}` (a policy file) → resume. It
 * has no weight-transfer engine (vLLM without `--weight-transfer-config`), so
 * an nccl init is refused as vLLM refuses it. As a non-LLM baseline it also
 * serves `POST /v1/anomaly_map {reference, target}`.
 */
export class CpuPolicyServer {
  private policy: GaussianPolicy;
  private readonly scheduler: SlotScheduler;
  private readonly rng: Rng;
  private counter = 0;
  private readonly maxBodyBytes: number;
  private readonly control: VllmDevRoutes;
  private running: RunningServer | null = null;
  /** The Hono app (servable without a socket through `app.request()`). */
  readonly app: Hono<PolicyEnv>;

  private constructor(
    private readonly model: string,
    options: CpuPolicyOptions,
  ) {
    this.policy = options.policy ?? DEFAULT_CPU_POLICY;
    this.scheduler = new SlotScheduler(options.slots ?? 2);
    this.rng = createRng(`cpu-policy:${options.seed ?? 0}`);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const initial = this.policy;
    this.control = createVllmDevRoutes({
      devMode: true,
      weightTransferBackend: null,
      worldSizePerReplica: 1,
      dataParallel: 1,
      scheduler: this.scheduler,
      // Requests held by /pause are answered by the policy loaded here (read after admission).
      reloadWeights: async (path) => {
        this.policy = path === null ? initial : await loadCpuPolicy(path);
      },
      model,
      // Its log-probs are those of the distribution sampled from, at the request's temperature.
      logprobsMode: 'processed_logprobs',
    });
    this.app = this.createApp();
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

  private createApp(): Hono<PolicyEnv> {
    const app = new Hono<PolicyEnv>();
    app.onError(createOpenAiErrorHandler('cpu-policy'));
    app.get('/health', (c) => c.body(null, 200));
    app.get('/metrics', (c) => {
      const g = this.scheduler.gauges();
      return c.text(formatLoadMetrics(this.model, g.running, g.waiting, this.policy.version), 200, { 'content-type': 'text/plain; version=0.0.4' });
    });
    app.get('/v1/models', (c) =>
      c.json({ object: 'list', data: [{ id: this.model, object: 'model', created: 0, owned_by: 'differad', root: this.model, parent: null, max_model_len: 4096 }] }),
    );
    // Every POST body is JSON (empty: null), read within the limit before its route runs.
    app.use('*', async (c, next) => {
      c.set('json', null);
      if (c.req.method === 'POST') {
        const text = await readBodyText(c, { maxBytes: this.maxBodyBytes });
        try {
          c.set('json', text.trim() === '' ? null : JSON.parse(text));
        } catch {
          return openAiError(c, 400, 'request body is not valid JSON');
        }
      }
      await next();
    });
    app.post('/v1/chat/completions', (c) => this.handleChat(c, c.get('json'), c.req.header('x-request-id') || null));
    app.post('/v1/anomaly_map', (c) => this.handleAnomalyMap(c, c.get('json')));
    app.all('*', async (c) => {
      const reply = await this.control.handle(`${c.req.method} ${c.req.path}`, new URL(c.req.url).searchParams, c.get('json'));
      return c.json(reply?.body ?? { detail: 'Not Found' }, (reply?.status ?? 404) as 200);
    });
    return app;
  }

  /** Waits for `work` slots (none are given while paused); the ticket frees them. */
  private admit(work: number): Promise<SlotTicket> {
    return new Promise((resolve) => {
      // The scheduler may admit inside enqueue(), before `ticket` is assigned: resolve a microtask later.
      const ticket = this.scheduler.enqueue(work, () => queueMicrotask(() => resolve(ticket)));
    });
  }

  private async handleAnomalyMap(c: Context, body: unknown): Promise<Response> {
    const parsed = AnomalyMapRequestSchema.safeParse(body);
    if (!parsed.success) return invalidRequest(c, parsed.error);
    const ticket = await this.admit(1);
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

  /** `requestId` (the X-Request-Id header) names the completion, as vLLM's `chatcmpl-<X-Request-Id>`, and is echoed back. */
  private async handleChat(c: Context, body: unknown, requestId: string | null): Promise<Response> {
    const parsed = ServedChatRequestSchema.safeParse(body);
    if (!parsed.success) return invalidRequest(c, parsed.error);
    const request = parsed.data;
    if (request.model != null && request.model !== this.model) return openAiError(c, 404, `The model \`${request.model}\` does not exist.`, 'model');
    const { images, texts } = toChatInputs(request);
    if (images.length !== 2) return openAiError(c, 400, `the CPU policy needs exactly two images (reference, target), got ${images.length}`, 'messages');
    const n = request.n ?? 1;
    const seed = request.seed ?? this.rng.int(0, 2 ** 31);
    const ticket = await this.admit(n);
    // Read after admission: a request held by /pause is answered by the policy that /update_weights installed.
    const policy = this.policy;
    try {
      const answers = await answerPairRequest(policy, {
        referenceImage: decodeDataUrl(images[0]!),
        targetImage: decodeDataUrl(images[1]!),
        n,
        seed,
        temperature: request.temperature ?? 1,
      });
      const id = requestId ?? `cpu-${this.port}-${++this.counter}`;
      const reply = toChatCompletionBody(request, answers, { id, model: this.model, texts, imageCount: images.length, createdSeconds: Math.floor(Date.now() / 1000) });
      return c.json(reply, 200, { 'x-weight-version': String(policy.version), 'x-request-id': id });
    } catch (error) {
      return imageFailure(c, error, 'messages');
    } finally {
      ticket.release();
    }
  }
}
