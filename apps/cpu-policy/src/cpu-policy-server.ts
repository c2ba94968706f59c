import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, DEFAULT_CPU_POLICY, DifferadError, type GaussianPolicy, type Rng } from '@differad/core';
import {
  createVllmDevRoutes,
  DEFAULT_MAX_BODY_BYTES,
  formatLoadMetrics,
  readRequestBody,
  readRequestIdHeader,
  sendJson,
  sendOpenAiError,
  sendOpenAiFailure,
  ServedChatRequestSchema,
  SlotScheduler,
  type SlotTicket,
  toChatInputs,
  type VllmDevRoutes,
} from '@differad/inference';
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

/** A 400 for image problems (the client's input), a 500 otherwise. */
function sendFailure(res: ServerResponse, error: unknown, param: string): void {
  const status = error instanceof DifferadError && error.code.startsWith('IMAGE_') ? 400 : 500;
  sendOpenAiError(res, status, (error as Error).message, status === 400 ? param : null);
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
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;

  private constructor(
    private readonly server: Server,
    /** The port the server listens on. */
    readonly port: number,
    host: string,
    private readonly model: string,
    options: CpuPolicyOptions,
  ) {
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
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
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => sendOpenAiFailure(res, error, 'cpu-policy'));
    });
  }

  /** Binds (127.0.0.1 and a free port unless told otherwise) and resolves once listening. */
  static async start(options: CpuPolicyOptions = {}): Promise<CpuPolicyServer> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer({ keepAliveTimeout: 60_000 });
    server.listen(options.port ?? 0, host);
    // once() rejects when 'error' (EADDRINUSE, EACCES) comes first.
    await once(server, 'listening');
    return new CpuPolicyServer(server, (server.address() as AddressInfo).port, host, options.model ?? CPU_POLICY_MODEL, options);
  }

  /** The policy answering now. */
  get currentPolicy(): GaussianPolicy {
    return this.policy;
  }

  /** The served model name. */
  get modelName(): string {
    return this.model;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closing = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://cpu-policy');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /health') return void res.writeHead(200).end();
    if (route === 'GET /metrics') {
      const g = this.scheduler.gauges();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      return void res.end(formatLoadMetrics(this.model, g.running, g.waiting, this.policy.version));
    }
    if (route === 'GET /v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: this.model, object: 'model', created: 0, owned_by: 'differad', root: this.model, parent: null, max_model_len: 4096 }] });
    }
    let body: unknown = null;
    if (req.method === 'POST') {
      const text = await readRequestBody(req, { maxBytes: this.maxBodyBytes });
      try {
        body = text.trim() === '' ? null : JSON.parse(text);
      } catch {
        return sendOpenAiError(res, 400, 'request body is not valid JSON');
      }
    }
    switch (route) {
      case 'POST /v1/chat/completions':
        return this.handleChat(body, res, readRequestIdHeader(req));
      case 'POST /v1/anomaly_map':
        return this.handleAnomalyMap(body, res);
      default: {
        const reply = await this.control.handle(route, url.searchParams, body);
        return sendJson(res, reply?.status ?? 404, reply?.body ?? { detail: 'Not Found' });
      }
    }
  }

  /** Waits for `work` slots (none are given while paused); the ticket frees them. */
  private admit(work: number): Promise<SlotTicket> {
    return new Promise((resolve) => {
      // The scheduler may admit inside enqueue(), before `ticket` is assigned: resolve a microtask later.
      const ticket = this.scheduler.enqueue(work, () => queueMicrotask(() => resolve(ticket)));
    });
  }

  private async handleAnomalyMap(body: unknown, res: ServerResponse): Promise<void> {
    const parsed = AnomalyMapRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendOpenAiError(res, 400, z.prettifyError(parsed.error), issue ? issue.path.join('.') : null);
    }
    const ticket = await this.admit(1);
    const policy = this.policy;
    try {
      const map = await computeAnomalyMap(policy, decodeDataUrl(parsed.data.reference), decodeDataUrl(parsed.data.target));
      sendJson(res, 200, map, { 'x-weight-version': String(policy.version) });
    } catch (error) {
      sendFailure(res, error, 'target');
    } finally {
      ticket.release();
    }
  }

  /** `requestId` (the X-Request-Id header) names the completion, as vLLM's `chatcmpl-<X-Request-Id>`, and is echoed back. */
  private async handleChat(body: unknown, res: ServerResponse, requestId: string | null): Promise<void> {
    const parsed = ServedChatRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendOpenAiError(res, 400, z.prettifyError(parsed.error), issue ? issue.path.join('.') : null);
    }
    const request = parsed.data;
    if (request.model != null && request.model !== this.model) return sendOpenAiError(res, 404, `The model \`${request.model}\` does not exist.`, 'model');
    const { images, texts } = toChatInputs(request);
    if (images.length !== 2) return sendOpenAiError(res, 400, `the CPU policy needs exactly two images (reference, target), got ${images.length}`, 'messages');
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
      sendJson(res, 200, reply, { 'x-weight-version': String(policy.version), 'x-request-id': id });
    } catch (error) {
      sendFailure(res, error, 'messages');
    } finally {
      ticket.release();
    }
  }
}
