import { DifferadError, toFieldProblems } from '@differad/core';
import { Pool } from 'undici';
import type { z } from 'zod';
import type {
  CheckpointResponse,
  HealthResponse,
  LoadCheckpointRequest,
  OptimStepRequest,
  OptimStepResponse,
  SaveCheckpointRequest,
  SendWeightsRequest,
  SendWeightsResponse,
  WeightsManifestRequest,
  WeightsManifestResponse,
} from '../api/control.js';
import type { ForwardBackwardRequest, ForwardBackwardResponse } from '../api/forward-backward.js';
import type { ScoreTokensRequest, ScoreTokensResponse } from '../api/score-tokens.js';
import { METRICS_PATH, TRAINER_ROUTES, type TrainerRoute } from '../api/routes.js';
import {
  TRAINER_CLIENT_ERROR_CODES,
  type TrainerCallContext,
  TrainerDeadlineExceeded,
  toTrainerBadResponse,
  toTrainerStatusError,
  toTrainerTransportError,
} from './trainer-errors.js';

/** Options of {@link createTrainerClient}. */
export interface TrainerClientOptions {
  /** `http://host:port` of the trainer (a trailing slash or `/v1` is ignored). */
  readonly baseUrl: string;
  /** Default deadline of every call, ms (connect, send, wait, read). */
  readonly timeoutMs: number;
  /** Most sockets to the trainer (default 4). */
  readonly connections?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the client's deadline (a GPU forward_backward may take minutes). */
  readonly timeoutMs?: number;
  /** The caller's cancellation; its reason is rethrown as is. */
  readonly signal?: AbortSignal;
}

/**
 * A typed client of trainer API v1. Every request is validated before it is
 * sent (TRAINER_REQUEST_INVALID) and every response with the same schemas
 * (TRAINER_BAD_RESPONSE naming the field). Failures are DifferadErrors with
 * the codes of TRAINER_CLIENT_ERROR_CODES; the client does not retry (the
 * API is idempotent, so the caller's job may).
 */
export interface TrainerClient {
  readonly url: string;
  health(options?: CallOptions): Promise<HealthResponse>;
  forwardBackward(request: ForwardBackwardRequest, options?: CallOptions): Promise<ForwardBackwardResponse>;
  optimStep(request: OptimStepRequest, options?: CallOptions): Promise<OptimStepResponse>;
  saveCheckpoint(request: SaveCheckpointRequest, options?: CallOptions): Promise<CheckpointResponse>;
  loadCheckpoint(request: LoadCheckpointRequest, options?: CallOptions): Promise<CheckpointResponse>;
  sendWeights(request: SendWeightsRequest, options?: CallOptions): Promise<SendWeightsResponse>;
  /** Names, dtypes and shapes of the weights an nccl send of this version broadcasts. */
  weightsManifest(request: WeightsManifestRequest, options?: CallOptions): Promise<WeightsManifestResponse>;
  /** Read-only: the trainer's per-token log-probs of given completions at a temperature. */
  scoreTokens(request: ScoreTokensRequest, options?: CallOptions): Promise<ScoreTokensResponse>;
  /** The Prometheus text of `GET /metrics`. */
  metrics(options?: CallOptions): Promise<string>;
  close(): Promise<void>;
}

/** `http://h:8200/v1/` → `http://h:8200`; a TypeError for a URL that is not http(s). */
export function normalizeTrainerUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`trainer URL must be http(s): ${url}`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

/** Creates a client with a keep-alive undici pool; one deadline per call, undici's own timeouts off. */
export function createTrainerClient(options: TrainerClientOptions): TrainerClient {
  const url = normalizeTrainerUrl(options.baseUrl);
  const { origin, pathname } = new URL(url);
  const prefix = pathname === '/' ? '' : pathname;
  const pool = new Pool(origin, { connections: options.connections ?? 4, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });

  async function send(method: 'GET' | 'POST', path: string, body: unknown, call: CallOptions): Promise<string> {
    const ctx: TrainerCallContext = { url, method, path };
    const timeoutMs = call.timeoutMs ?? options.timeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new TrainerDeadlineExceeded(timeoutMs)), timeoutMs);
    const signal = call.signal ? AbortSignal.any([deadline.signal, call.signal]) : deadline.signal;
    let status: number;
    let text: string;
    try {
      const res = await pool.request({
        method,
        path: prefix + path,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (error) {
      if (call.signal?.aborted && !deadline.signal.aborted) throw call.signal.reason;
      throw toTrainerTransportError(deadline.signal.aborted ? deadline.signal.reason : error, ctx);
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status >= 300) throw toTrainerStatusError(status, text, ctx);
    return text;
  }

  async function callRoute<Res>(route: TrainerRoute, request: unknown, call: CallOptions = {}): Promise<Res> {
    let body: unknown;
    if (route.request) {
      const checked = route.request.schema.safeParse(request);
      if (!checked.success) {
        const fields = toFieldProblems(checked.error);
        throw new DifferadError(TRAINER_CLIENT_ERROR_CODES.REQUEST_INVALID, `${route.method} ${route.path}: invalid request: ${fields.map((f) => `${f.field || '(body)'}: ${f.message}`).join('; ')}`, {
          details: { path: route.path, fields },
        });
      }
      body = checked.data;
    }
    const text = await send(route.method, route.path, body, call);
    const ctx = { url, method: route.method, path: route.path };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw toTrainerBadResponse('', `not JSON: ${text.slice(0, 200)}`, ctx);
    }
    const parsed = (route.response.schema as z.ZodType<Res>).safeParse(json);
    if (!parsed.success) {
      const [first] = toFieldProblems(parsed.error);
      throw toTrainerBadResponse(first?.field ?? '', first?.message ?? 'does not match the schema', ctx);
    }
    return parsed.data;
  }

  return {
    url,
    health: (o) => callRoute(TRAINER_ROUTES.health, undefined, o),
    forwardBackward: (r, o) => callRoute(TRAINER_ROUTES.forwardBackward, r, o),
    optimStep: (r, o) => callRoute(TRAINER_ROUTES.optimStep, r, o),
    saveCheckpoint: (r, o) => callRoute(TRAINER_ROUTES.saveCheckpoint, r, o),
    loadCheckpoint: (r, o) => callRoute(TRAINER_ROUTES.loadCheckpoint, r, o),
    sendWeights: (r, o) => callRoute(TRAINER_ROUTES.sendWeights, r, o),
    weightsManifest: (r, o) => callRoute(TRAINER_ROUTES.weightsManifest, r, o),
    scoreTokens: (r, o) => callRoute(TRAINER_ROUTES.scoreTokens, r, o),
    metrics: (o) => send('GET', METRICS_PATH, undefined, o ?? {}),
    // destroy, not close: a hung call must not keep the client from closing.
    close: () => pool.destroy(),
  };
}
