import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTrainerOpenApiDocument, formatTrainerOpenApiDocument, OPENAPI_EMIT_COMMAND, OPENAPI_FILE } from './openapi-document.js';

const committed = fileURLToPath(new URL(`../../../../${OPENAPI_FILE}`, import.meta.url));

describe('the OpenAPI document of the trainer API', () => {
  it(`is committed up to date in ${OPENAPI_FILE}`, () => {
    let text = '';
    try {
      text = readFileSync(committed, 'utf8');
    } catch {
      // missing: the comparison below fails with the command to run
    }
    // A plain boolean first, so the failure prints the fix rather than a 40 kB diff.
    const upToDate = text === formatTrainerOpenApiDocument();
    expect(upToDate, `${OPENAPI_FILE} is out of date with the zod schemas; regenerate it with:\n  ${OPENAPI_EMIT_COMMAND}\n`).toBe(true);
  });

  it('describes every route with request and response components, and the error body', () => {
    const doc = createTrainerOpenApiDocument() as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { required?: string[]; $schema?: string; additionalProperties?: boolean }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/metrics',
        '/v1/checkpoints',
        '/v1/checkpoints/load',
        '/v1/forward_backward',
        '/v1/health',
        '/v1/optim_step',
        '/v1/score_tokens',
        '/v1/weights/manifest',
        '/v1/weights/send',
      ].sort(),
    );
    expect(doc.paths['/v1/forward_backward']!.post!.responses).toHaveProperty('400');
    const fb = doc.components.schemas.ForwardBackwardRequest!;
    expect(fb.required).toEqual(['run', 'step', 'micro_batch', 'micro_batches', 'loss', 'groups']);
    expect(fb.additionalProperties).toBe(false);
    expect(fb.$schema).toBeUndefined();
    expect(doc.components.schemas.TrainerErrorBody?.required).toEqual(['error']);
  });
});
