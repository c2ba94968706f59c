import { DifferadError, isDifferadError, toErrorSpec, toFieldProblems } from '@differad/core';
import { createErrorHandler, jsonBody } from '@differad/http-server';
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
  TRAINER_ERRORS,
  TRAINER_ROUTES,
  type TrainerErrorBody,
  type TrainerRoute,
  type TrainerRouteName,
  type WeightsManifestRequest,
  type WeightsManifestResponse,
} from '@differad/trainer-client';
import { Hono, type MiddlewareHandler } from 'hono';

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

/** App settings. */
export interface TrainerAppOptions {
  readonly maxBodyBytes: number;
  /** Called for every error reply (counted on /metrics). */
  readonly onError?: (status: number, code: string) => void;
}

const invalid = (message: string, fields: { field: string; message: string }[]) =>
  new DifferadError('TRAINER_REQUEST_INVALID', message, { details: { fields } });

/** Any failure → `{ error: { code, message, details } }` with its status in TRAINER_ERRORS (500 for a code a trainer does not answer with). */
function toErrorReply(error: unknown): { status: number; body: TrainerErrorBody } {
  const status = isDifferadError(error) ? toErrorSpec(TRAINER_ERRORS, error.code)?.status : null;
  if (isDifferadError(error) && typeof status === 'number') {
    return { status, body: { error: { code: error.code, message: error.message, details: { ...error.details } } } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { error: { code: 'TRAINER_INTERNAL', message } } };
}

/** TRAINER_METHOD_NOT_ALLOWED unless the request uses `method` (HEAD included: Hono serves it by the GET route). */
function allowOnly(method: string): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== method) throw new DifferadError('TRAINER_METHOD_NOT_ALLOWED', `${c.req.method} ${c.req.path}: use ${method}`);
    await next();
  };
}

/** Reads and validates the body of `route` with its API schema; 400 names every wrong field, 413 past the limit. */
function validBody(route: NonNullable<TrainerRoute['request']>, maxBytes: number): MiddlewareHandler<{ Variables: { body: unknown } }> {
  const tooLarge = () =>
    new DifferadError('TRAINER_BODY_TOO_LARGE', `the body is larger than ${maxBytes} bytes`, { details: { limit: maxBytes } });
  return jsonBody(route.schema, {
    limit: { maxBytes, tooLarge },
    invalid: (problem) => {
      if (problem.kind === 'not-json') return invalid(`the body is not JSON: ${problem.message}`, [{ field: '', message: 'not JSON' }]);
      const fields = toFieldProblems(problem.error);
      return invalid(`invalid ${route.name}: ${fields.map((f) => `${f.field || '(body)'}: ${f.message}`).join('; ')}`, fields);
    },
  });
}

/** A route without a request body: its handler gets `undefined`. */
const noBody: MiddlewareHandler<{ Variables: { body: unknown } }> = async (_, next) => next();

/**
 * The CPU trainer's Hono app: one route per entry of TRAINER_ROUTES, bodies
 * validated with the API schemas, and every failure answered with the API's
 * one error body by the one error handler.
 */
export function createTrainerApp(handlers: TrainerHandlers, options: TrainerAppOptions): Hono {
  const app = new Hono();
  const onError = createErrorHandler({
    toReply: toErrorReply,
    onError: (_, reply) => options.onError?.(reply.status, (reply.body as TrainerErrorBody).error.code),
  });
  app.onError(onError);
  app.notFound((c) => onError(new DifferadError('TRAINER_NOT_FOUND', `no route ${c.req.path}`), c));
  app.all(METRICS_PATH, allowOnly('GET'), (c) => c.text(handlers.metrics(), 200, { 'content-type': 'text/plain; version=0.0.4' }));
  for (const [name, spec] of Object.entries(TRAINER_ROUTES) as [TrainerRouteName, TrainerRoute][]) {
    // The schema of TRAINER_ROUTES[name] validated the body, which is what handlers[name] takes.
    const handler = handlers[name] as (r: unknown) => unknown;
    const body = spec.request ? validBody(spec.request, options.maxBodyBytes) : noBody;
    app.all(spec.path, allowOnly(spec.method), body, async (c) => c.json(await handler.call(handlers, c.get('body'))));
  }
  return app;
}
