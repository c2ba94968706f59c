import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Route } from '../http/router.js';
import { SubmitRunBodySchema, RunResponseSchema } from '../schemas/run-schemas.js';
import { createOpenApiDocument } from './openapi-document.js';

const routes: Route[] = [
  {
    method: 'POST',
    path: '/v1/runs',
    auth: true,
    handlers: [],
    doc: {
      operationId: 'submitRun',
      tag: 'runs',
      summary: 's',
      body: { name: 'SubmitRunBody', schema: SubmitRunBodySchema },
      response: { name: 'RunResponse', schema: RunResponseSchema },
      status: 201,
      errors: [400],
    },
  },
  {
    method: 'GET',
    path: '/v1/runs/:id',
    auth: true,
    handlers: [],
    doc: { operationId: 'getRun', tag: 'runs', summary: 's', response: { name: 'RunResponse', schema: RunResponseSchema }, errors: [404] },
  },
  {
    method: 'GET',
    path: '/health',
    auth: false,
    handlers: [],
    doc: { operationId: 'health', tag: 'system', summary: 's', response: { name: 'Health', schema: z.object({ status: z.string() }) } },
  },
  { method: 'GET', path: '/dashboard', auth: true, page: true, handlers: [] },
];

describe('the OpenAPI document', () => {
  const doc = createOpenApiDocument(routes) as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  };

  it('has the documented routes with their bodies, responses, errors and path parameters, and no pages', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(['/health', '/v1/runs', '/v1/runs/{id}']);
    const submit = doc.paths['/v1/runs']!.post!;
    // A state-changing route answers 403 (another origin, no CSRF token) and 415 (not JSON); every route 400 (bad id or query).
    expect(Object.keys(submit.responses as object).sort()).toEqual(['201', '400', '401', '403', '415', '500']);
    expect(Object.keys(doc.paths['/v1/runs/{id}']!.get!.responses as object).sort()).toEqual(['200', '400', '401', '404', '500']);
    expect(submit.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmitRunBody' } } },
    });
    // The id's pattern, so a generated client (or schemathesis) knows which ids are well-formed and 404 rather than 400.
    expect(doc.paths['/v1/runs/{id}']!.get!.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' } },
    ]);
    expect(doc.paths['/health']!.get!.security).toEqual([]);
  });

  it('generates the body schema from the zod schema the route validates with', () => {
    const body = doc.components.schemas.SubmitRunBody as {
      required: string[];
      additionalProperties: boolean;
      properties: { config: { required: string[] } };
    };
    expect(body.required).toEqual(['config']);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.config.required).toEqual(['data']);
  });
});
