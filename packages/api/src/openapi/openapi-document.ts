import { RunIdSchema } from '@differad/queue';
import { z } from 'zod';
import { API_ERROR_CODES, ApiErrorBodySchema } from '../errors/api-errors.js';
import type { Route } from '../http/router.js';
import { TOKEN_COOKIE } from '../auth/authenticate.js';

type JsonObject = Record<string, unknown>;

/** The API version in the document and the `/v1` prefix. */
export const API_VERSION = '1.0.0';

/** A component: JSON Schema 2020-12 without `$schema` (OpenAPI 3.1 declares the dialect once). */
function toComponent(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'throw' }) as JsonObject;
  delete json.$schema;
  return json;
}

/** The `:id` path parameter's schema, from the schema readIdParam validates it with. */
const ID_PARAM_SCHEMA = toComponent(RunIdSchema, 'input');

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'No or wrong token',
  403: 'From another origin, or without the CSRF token',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Not JSON',
  422: 'The job could not start',
  500: 'Internal error',
};

function codesFor(status: number): string {
  return Object.entries(API_ERROR_CODES)
    .filter(([, s]) => s === status)
    .map(([code]) => code)
    .join(', ');
}

/**
 * The REST API as an OpenAPI 3.1 document generated from the routes' zod
 * schemas (bodies in their input form, responses in their output form), so
 * the document and the validation cannot disagree.
 */
export function createOpenApiDocument(routes: readonly Route[]): JsonObject {
  const schemas: Record<string, JsonObject> = { ApiErrorBody: toComponent(ApiErrorBodySchema, 'output') };
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const doc = route.doc;
    if (doc === undefined) continue;
    const responses: JsonObject = {};
    const ok = String(doc.status ?? 200);
    if ('schema' in doc.response) {
      schemas[doc.response.name] = toComponent(doc.response.schema, 'output');
      responses[ok] = { description: 'OK', content: { 'application/json': { schema: ref(doc.response.name) } } };
    } else {
      responses[ok] = { description: doc.response.description, content: { [doc.response.contentType]: {} } };
    }
    const writes = route.method !== 'GET' ? [403, 415] : [];
    // 400 for every route: a malformed id in the path, or a query parameter the route does not take.
    const errors = new Set<number>([400, ...(doc.errors ?? []), ...(route.auth ? [401] : []), ...writes, 500]);
    for (const status of [...errors].sort()) {
      responses[String(status)] = {
        description: `${STATUS_TEXT[status] ?? 'Error'} (${codesFor(status)})`,
        content: { 'application/json': { schema: ref('ApiErrorBody') } },
      };
    }
    if (doc.body) schemas[doc.body.name] = toComponent(doc.body.schema, 'input');
    // Every `:id` is read with readIdParam (a run or job id): the pattern tells a client what 400s before any lookup.
    const pathParams = [...route.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: m[1] === 'id' ? ID_PARAM_SCHEMA : { type: 'string' },
    }));
    const queryParams = Object.entries(doc.query ?? {}).map(([name, description]) => ({
      name,
      in: 'query',
      required: false,
      description,
      schema: { type: 'integer', minimum: 0 },
    }));
    const openApiPath = route.path.replace(/:(\w+)/g, '{$1}');
    paths[openApiPath] ??= {};
    paths[openApiPath][route.method.toLowerCase()] = {
      operationId: doc.operationId,
      summary: doc.summary,
      tags: [doc.tag],
      ...(route.auth ? {} : { security: [] }),
      ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
      // A body whose schema takes `undefined` (a cancel's) may be left empty.
      ...(doc.body
        ? {
            requestBody: {
              required: !doc.body.schema.safeParse(undefined).success,
              content: { 'application/json': { schema: ref(doc.body.name) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'differad API',
      version: API_VERSION,
      description:
        'Submit and follow GRPO training runs, evaluations and synthesis jobs. Every route but /health needs the token ' +
        `(\`Authorization: Bearer <token>\` or the dashboard's \`${TOKEN_COOKIE}\` cookie). Paths in bodies must resolve, ` +
        "symlinks followed, inside the server's data roots; relative paths start at the first root. Every error is an ApiErrorBody.",
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: TOKEN_COOKIE },
      },
    },
  };
}
