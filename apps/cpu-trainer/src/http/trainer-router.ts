import type { IncomingMessage, ServerResponse } from 'node:http';
import { DifferadError, isDifferadError, toFieldProblems } from '@differad/core';
import { readRequestBody, sendAndDrain } from '@differad/inference';
import {
  type CheckpointResponse,
  type ForwardBackwardRequest,
  type ForwardBackwardResponse,
  type HealthResponse,
  type LoadCheckpointRequest,
  METRICS_PATH,
  type OptimStepRequest,
  type OptimStepResponse,
  type SaveCheckpointRequest,
  type ScoreTokensRequest,
  type ScoreTokensResponse,
  type SendWeightsRequest,
  type SendWeightsResponse,
  TRAINER_ERROR_CODES,
  TRAINER_ROUTES,
  type TrainerErrorBody,
  type TrainerRoute,
  type TrainerRouteName,
  type WeightsManifestRequest,
  type WeightsManifestResponse,
} from '@differad/trainer-client';

/** One handler per route of TRAINER_ROUTES (same names), given the validated request; plus the metrics text. */
export interface TrainerHandlers {
  health(): HealthResponse;
  forwardBackward(request: ForwardBackwardRequest): ForwardBackwardResponse | Promise<ForwardBackwardResponse>;
  optimStep(request: OptimStepRequest): OptimStepResponse | Promise<OptimStepResponse>;
  saveCheckpoint(request: SaveCheckpointRequest): Promise<CheckpointResponse>;
  loadCheckpoint(request: LoadCheckpointRequest): Promise<CheckpointResponse>;
  sendWeights(request: SendWeightsRequest): Promise<SendWeightsResponse>;
  weightsManifest(request: WeightsManifestRequest): Promise<WeightsManifestResponse>;
  scoreTokens(request: ScoreTokensRequest): ScoreTokensResponse | Promise<ScoreTokensResponse>;
  metrics(): string;
}

/** Router settings. */
export interface RouterOptions {
  readonly maxBodyBytes: number;
  /** Called for every error reply (counted on /metrics). */
  readonly onError?: (status: number, code: string) => void;
}

const ROUTE_BY_PATH = new Map<string, [TrainerRouteName, TrainerRoute]>(
  (Object.entries(TRAINER_ROUTES) as [TrainerRouteName, TrainerRoute][]).map(([name, route]) => [route.path, [name, route]]),
);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Reads the body up to `limit` bytes; TRAINER_BODY_TOO_LARGE past it (by Content-Length, before reading). */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new DifferadError('TRAINER_BODY_TOO_LARGE', `the body is larger than ${limit} bytes`, { details: { limit } });
  return readRequestBody(req, { maxBytes: limit, tooLarge });
}

const invalid = (message: string, fields: { field: string; message: string }[]) =>
  new DifferadError('TRAINER_REQUEST_INVALID', message, { details: { fields } });

/** Any failure → `{ error: { code, message, details } }` with the status of TRAINER_ERROR_CODES (500 for the unknown). */
function toErrorReply(error: unknown): { status: number; body: TrainerErrorBody } {
  if (isDifferadError(error) && error.code in TRAINER_ERROR_CODES) {
    const status = TRAINER_ERROR_CODES[error.code as keyof typeof TRAINER_ERROR_CODES];
    return { status, body: { error: { code: error.code, message: error.message, details: { ...error.details } } } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { error: { code: 'TRAINER_INTERNAL', message } } };
}

async function route(req: IncomingMessage, res: ServerResponse, handlers: TrainerHandlers, options: RouterOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://trainer').pathname;
  if (path === METRICS_PATH) {
    if (req.method !== 'GET') throw new DifferadError('TRAINER_METHOD_NOT_ALLOWED', `${req.method} ${path}: use GET`);
    const text = handlers.metrics();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) }).end(text);
    return;
  }
  const found = ROUTE_BY_PATH.get(path);
  if (!found) throw new DifferadError('TRAINER_NOT_FOUND', `no route ${path}`);
  const [name, spec] = found;
  if (req.method !== spec.method) throw new DifferadError('TRAINER_METHOD_NOT_ALLOWED', `${req.method} ${path}: use ${spec.method}`);
  let request: unknown;
  if (spec.request) {
    const text = await readBody(req, options.maxBodyBytes);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw invalid(`the body is not JSON: ${(cause as Error).message}`, [{ field: '', message: 'not JSON' }]);
    }
    const parsed = spec.request.schema.safeParse(json);
    if (!parsed.success) {
      const fields = toFieldProblems(parsed.error);
      throw invalid(`invalid ${spec.request.name}: ${fields.map((f) => `${f.field || '(body)'}: ${f.message}`).join('; ')}`, fields);
    }
    request = parsed.data;
  } else {
    req.resume();
  }
  // The schema of TRAINER_ROUTES[name] validated `request`, which is what handlers[name] takes.
  const handler = handlers[name] as (r: unknown) => unknown;
  sendJson(res, 200, await handler.call(handlers, request));
}

/**
 * The CPU trainer's request listener: dispatches on TRAINER_ROUTES, reads and
 * validates bodies with the API schemas (400 names every wrong field), and
 * answers every failure with the API's one error body.
 */
export function createTrainerRouter(handlers: TrainerHandlers, options: RouterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(req, res, handlers, options).catch((error: unknown) => {
      const { status, body } = toErrorReply(error);
      options.onError?.(status, body.error.code);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // An unread body (413, 404) must not be parsed as the next request on this socket, and must not reset it before the client reads the reply.
      sendAndDrain(res, status, { 'content-type': 'application/json' }, JSON.stringify(body));
    });
  };
}
