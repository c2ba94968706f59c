import { z } from 'zod';
import { renderPage, toPageCsp } from '../dashboard/html.js';
import { HTML_TYPE, reply, replyJson } from '../http/http-io.js';
import type { Route } from '../http/router.js';
import { renderDocsPage } from '../openapi/docs-page.js';

/** `GET /health`: no token needed, so it says nothing but whether the API can reach Redis. */
export const HealthResponseSchema = z.object({ status: z.enum(['ok', 'degraded']), redis: z.enum(['ok', 'unreachable']) });

/** `/health`, `/openapi.json` and `/docs`; `document` is built once from all routes. */
export function createSystemRoutes(pingRedis: () => Promise<boolean>, document: () => Record<string, unknown>): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      auth: false,
      doc: {
        operationId: 'health',
        tag: 'system',
        summary: 'Liveness, and whether Redis answers. No token needed.',
        response: { name: 'HealthResponse', schema: HealthResponseSchema },
      },
      handlers: [
        async (c) => {
          const redis = await pingRedis();
          return replyJson(c, redis ? 200 : 503, { status: redis ? 'ok' : 'degraded', redis: redis ? 'ok' : 'unreachable' });
        },
      ],
    },
    {
      method: 'GET',
      path: '/openapi.json',
      auth: true,
      doc: {
        operationId: 'openapi',
        tag: 'system',
        summary: 'This document.',
        response: { contentType: 'application/json', description: 'OpenAPI 3.1' },
      },
      handlers: [async (c) => replyJson(c, 200, document())],
    },
    {
      method: 'GET',
      path: '/docs',
      auth: true,
      page: true,
      handlers: [
        async (c) =>
          reply(c, 200, HTML_TYPE, renderPage({ title: 'API', body: renderDocsPage(document()) }), {
            'content-security-policy': toPageCsp(null),
          }),
      ],
    },
  ];
}
