import { DifferadError, toFieldProblems } from '@differad/core';
import { createJsonClient, normalizeBaseUrl } from '@differad/http-client';
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
import { TRAINER_CLIENT_ERROR_CODES, type TrainerCallContext, trainerErrors } from './trainer-errors.js';

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
 * (TRAINER_BAD_RESPONSE naming the field); on the hot routes a hand check
 * of the schema goes first and the schema names the field of what it
 * refuses. Failures are DifferadErrors with the codes of
 * TRAINER_CLIENT_ERROR_CODES; the client does not retry (the API is
 * idempotent, so the caller's job may).
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
  return normalizeBaseUrl(url, 'trainer');
}

/** Creates a client on the @differad/http-client JSON client: a keep-alive pool, one deadline per call. */
export function createTrainerClient(options: TrainerClientOptions): TrainerClient {
  const client = createJsonClient<TrainerCallContext>({
    baseUrl: options.baseUrl,
    what: 'trainer',
    errors: trainerErrors,
    connections: options.connections ?? 4,
  });
  const { url } = client;

  /** One call of the JSON client; its errors name the method, URL and path. */
  const toCall = (method: 'GET' | 'POST', path: string, body: unknown, call: CallOptions) => ({
    method,
    path,
    body,
    timeoutMs: call.timeoutMs ?? options.timeoutMs,
    signal: call.signal,
    context: { url, method, path },
  });

  async function callRoute<Res>(route: TrainerRoute, request: unknown, call: CallOptions = {}): Promise<Res> {
    let body: unknown;
    // A body the route's hand check accepts is what the schema would output: sent as is.
    if (route.request?.check?.(request)) {
      body = request;
    } else if (route.request) {
      const checked = route.request.schema.safeParse(request);
      if (!checked.success) {
        const fields = toFieldProblems(checked.error);
        throw new DifferadError(
          TRAINER_CLIENT_ERROR_CODES.REQUEST_INVALID,
          `${route.method} ${route.path}: invalid request: ${fields.map((f) => `${f.field || '(body)'}: ${f.message}`).join('; ')}`,
          {
            details: { path: route.path, fields },
          },
        );
      }
      body = checked.data;
    }
    const sent = toCall(route.method, route.path, body, call);
    const { json } = await client.callJson(sent);
    if (route.response.check?.(json)) return json as Res;
    const parsed = (route.response.schema as z.ZodType<Res>).safeParse(json);
    if (!parsed.success) {
      const [first] = toFieldProblems(parsed.error);
      throw trainerErrors.badResponse(first?.field ?? '', first?.message ?? 'does not match the schema', sent.context);
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
    metrics: async (o = {}) => (await client.call(toCall('GET', METRICS_PATH, undefined, o))).text,
    close: () => client.close(),
  };
}
