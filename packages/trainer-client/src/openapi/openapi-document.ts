import { z } from 'zod';
import { TRAINER_API_VERSION, TRAINER_ERROR_CODES, TrainerErrorBodySchema } from '../api/common.js';
import { METRICS_PATH, TRAINER_ROUTES, type TrainerRoute } from '../api/routes.js';

/** Where the generated document is committed, relative to the repository root. */
export const OPENAPI_FILE = 'docs/trainer-api.json';
/** The command that regenerates it. */
export const OPENAPI_EMIT_COMMAND = 'npx tsx packages/trainer-client/scripts/emit-openapi.ts';

type JsonObject = Record<string, unknown>;

/** A component schema: JSON Schema 2020-12 without `$schema` (OpenAPI 3.1 declares the dialect once). */
function toComponent(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'throw' }) as JsonObject;
  delete json.$schema;
  return json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (name: string) => ({ 'application/json': { schema: ref(name) } });

/** The error statuses a route can answer with: 400 and 500 always, the rest by route. */
function errorResponses(route: TrainerRoute): JsonObject {
  const statuses = new Set<number>([500]);
  if (route.request) {
    statuses.add(400);
    statuses.add(413);
    statuses.add(409);
  }
  if (route.path.startsWith('/v1/checkpoints')) {
    statuses.add(404);
    statuses.add(422);
  }
  if (route.path === '/v1/forward_backward') statuses.add(422);
  const codesFor = (status: number) =>
    Object.entries(TRAINER_ERROR_CODES)
      .filter(([, s]) => s === status)
      .map(([code]) => code)
      .join(', ');
  return Object.fromEntries(
    [...statuses]
      .sort()
      .map((status) => [String(status), { description: `Error (${codesFor(status)})`, content: jsonContent('TrainerErrorBody') }]),
  );
}

/**
 * The trainer API v1 as an OpenAPI 3.1 document, generated from the zod
 * schemas (requests in their input form, responses in their output form).
 * The Python trainer checks its request/response models against
 * `components.schemas`, so both backends speak the same wire format.
 */
export function createTrainerOpenApiDocument(): JsonObject {
  const schemas: Record<string, JsonObject> = { TrainerErrorBody: toComponent(TrainerErrorBodySchema, 'output') };
  const paths: Record<string, JsonObject> = {};
  for (const route of Object.values(TRAINER_ROUTES) as TrainerRoute[]) {
    if (route.request) schemas[route.request.name] = toComponent(route.request.schema, 'input');
    schemas[route.response.name] = toComponent(route.response.schema, 'output');
    paths[route.path] = {
      [route.method.toLowerCase()]: {
        operationId: route.operationId,
        summary: route.summary,
        ...(route.request ? { requestBody: { required: true, content: jsonContent(route.request.name) } } : {}),
        responses: { '200': { description: 'OK', content: jsonContent(route.response.name) }, ...errorResponses(route) },
      },
    };
  }
  paths[METRICS_PATH] = {
    get: {
      operationId: 'metrics',
      summary: "Prometheus text exposition of the trainer's counters and gauges.",
      responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'differad trainer API',
      version: TRAINER_API_VERSION,
      description:
        'The HTTP API the orchestrator drives a trainer with (the built-in CPU trainer or the Python GPU trainer). ' +
        `Generated from the zod schemas in packages/trainer-client; do not edit, run \`${OPENAPI_EMIT_COMMAND}\`. ` +
        'Every non-2xx reply is a TrainerErrorBody; error codes and statuses: ' +
        Object.entries(TRAINER_ERROR_CODES)
          .map(([code, status]) => `${code} ${status}`)
          .join(', ') +
        '.',
    },
    paths,
    components: { schemas },
  };
}

/** The document as the committed file's text (2-space JSON, trailing newline). */
export function formatTrainerOpenApiDocument(): string {
  return `${JSON.stringify(createTrainerOpenApiDocument(), null, 2)}\n`;
}
