import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, DEFAULT_CPU_POLICY, DifferadError, type GaussianPolicy, GaussianPolicySchema } from '@differad/core';
import {
  formatLoadMetrics,
  readRequestBody,
  sendJson,
  sendOpenAiError,
  ServedChatRequestSchema,
  SlotScheduler,
  toChatInputs,
  toPromptTokenIds,
  toTokenPieces,
} from '@differad/inference';
import { z } from 'zod';
import { answerPairRequest, decodeDataUrl } from './policy-engine.js';

/** The model name the built-in policy serves. */
export const CPU_POLICY_MODEL = 'differad-cpu';

/** Parameters every CPU policy file must define: the detector reads them. */
export const CPU_POLICY_PARAMS = ['threshold', 'blur', 'min_area'] as const;

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
}

/** Parses and checks a policy file's content: the schema plus the detector's three parameters. */
export function parseCpuPolicy(value: unknown, source: string): GaussianPolicy {
  const parsed = GaussianPolicySchema.safeParse(value);
  if (!parsed.success) throw new DifferadError('POLICY_INVALID', `${source} is not a CPU policy:\n${z.prettifyError(parsed.error)}`);
  const missing = CPU_POLICY_PARAMS.filter((k) => !(k in parsed.data.params));
  if (missing.length > 0) throw new DifferadError('POLICY_INVALID', `${source} lacks the parameter(s) ${missing.join(', ')}`);
  return parsed.data;
}

/** Reads a policy file (JSON, GaussianPolicySchema). */
export async function loadCpuPolicy(path: string): Promise<GaussianPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DifferadError('POLICY_INVALID', `cannot read policy file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    return parseCpuPolicy(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof DifferadError) throw error;
    throw new DifferadError('POLICY_INVALID', `policy file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The built-in CPU policy behind an OpenAI-compatible API (model
 * `differad-cpu`): answers a paired-image chat request with n completions of
 * the reference-difference detector, its parameters sampled from a Gaussian
 * policy. Speaks vLLM's protocol: `/v1/chat/completions` (logprobs and token
 * ids), `/v1/models`, `/health`, `/metrics`, and the pause / update_weights /
 * resume calls through which training pushes new parameters (disk backend:
 * `update_info.path` names a policy file).
 */
export class CpuPolicyServer {
  private policy: GaussianPolicy;
  private readonly scheduler: SlotScheduler;
  private readonly rng;
  private counter = 0;
  readonly url: string;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    host: string,
    private readonly model: string,
    options: CpuPolicyOptions,
  ) {
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.policy = options.policy ?? DEFAULT_CPU_POLICY;
    this.scheduler = new SlotScheduler(options.slots ?? 2);
    this.rng = createRng(`cpu-policy:${options.seed ?? 0}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => sendOpenAiError(res, 500, `cpu-policy: ${(error as Error).message}`));
    });
  }

  /** Binds (127.0.0.1 and a free port unless told otherwise) and resolves once listening. */
  static async start(options: CpuPolicyOptions = {}): Promise<CpuPolicyServer> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer({ keepAliveTimeout: 60_000 });
    server.listen(options.port ?? 0, host);
    await once(server, 'listening');
    return new CpuPolicyServer(server, (server.address() as AddressInfo).port, host, options.model ?? CPU_POLICY_MODEL, options);
  }

  /** The policy answering now. */
  get currentPolicy(): GaussianPolicy {
    return this.policy;
  }

  async close(): Promise<void> {
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
      const text = await readRequestBody(req);
      try {
        body = text.trim() === '' ? null : JSON.parse(text);
      } catch {
        return sendOpenAiError(res, 400, 'request body is not valid JSON');
      }
    }
    switch (route) {
      case 'POST /v1/chat/completions':
        return this.handleChat(body, res);
      case 'POST /pause':
        this.scheduler.pause();
        return sendJson(res, 200, { status: 'paused' });
      case 'POST /resume':
        this.scheduler.resume();
        return sendJson(res, 200, { status: 'resumed' });
      case 'GET /is_paused':
        return sendJson(res, 200, { is_paused: this.scheduler.isPaused() });
      case 'POST /update_weights':
        return this.handleUpdate(body, res);
      case 'POST /init_weight_transfer_engine':
      case 'POST /start_weight_update':
      case 'POST /finish_weight_update':
      case 'POST /reset_prefix_cache':
        // Accepted for protocol compatibility with vLLM; the CPU policy has no engine or cache to set up.
        return sendJson(res, 200, { weight_version: this.policy.version });
      default:
        return sendJson(res, 404, { detail: 'Not Found' });
    }
  }

  private async handleUpdate(body: unknown, res: ServerResponse): Promise<void> {
    const path = (body as { update_info?: { path?: unknown } } | null)?.update_info?.path;
    if (typeof path !== 'string' || path === '') return sendOpenAiError(res, 400, 'update_info.path must name a policy file', 'update_info.path');
    try {
      this.policy = await loadCpuPolicy(path);
    } catch (error) {
      return sendOpenAiError(res, 400, (error as Error).message, 'update_info.path');
    }
    sendJson(res, 200, { weight_version: this.policy.version });
  }

  private async handleChat(body: unknown, res: ServerResponse): Promise<void> {
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
    const ticket = await new Promise<{ release(): void }>((resolve) => {
      const t = this.scheduler.enqueue(n, () => resolve(t));
    });
    const policy = this.policy;
    try {
      const answers = await answerPairRequest(policy, {
        referenceImage: decodeDataUrl(images[0]!),
        targetImage: decodeDataUrl(images[1]!),
        n,
        seed,
        temperature: request.temperature ?? 1,
      });
      const withIds = request.return_token_ids === true;
      const id = `cpu-${this.port}-${++this.counter}`;
      const promptIds = toPromptTokenIds(texts, images.length);
      let completionTokens = 0;
      const choices = answers.map((a, index) => {
        // The whole sample's log-probability rides on the first token and the
        // rest carry 0, so summing a completion's token log-probs gives log π(sample).
        const pieces = toTokenPieces(a.text);
        completionTokens += pieces.length;
        return {
          index,
          message: { role: 'assistant', content: a.text, reasoning_content: null, tool_calls: [] },
          logprobs: request.logprobs
            ? { content: pieces.map((p, k) => ({ token: p.text, logprob: k === 0 ? a.logprob : 0, bytes: [...Buffer.from(p.text)], top_logprobs: [] })) }
            : null,
          finish_reason: 'stop',
          stop_reason: null,
          token_ids: withIds ? pieces.map((p) => p.id) : null,
        };
      });
      sendJson(
        res,
        200,
        {
          id: `chatcmpl-${id}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: this.model,
          choices,
          usage: { prompt_tokens: promptIds.length, completion_tokens: completionTokens, total_tokens: promptIds.length + completionTokens },
          prompt_token_ids: withIds ? promptIds : null,
        },
        { 'x-weight-version': String(policy.version), 'x-request-id': id },
      );
    } catch (error) {
      const status = error instanceof DifferadError && error.code.startsWith('IMAGE_') ? 400 : 500;
      sendOpenAiError(res, status, (error as Error).message, status === 400 ? 'messages' : null);
    } finally {
      ticket.release();
    }
  }
}
