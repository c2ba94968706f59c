import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import type { CatalogQueueMap, JobName } from '@differad/queue';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { FetchHandler } from '../routes/dashboard-routes.js';

// bull-board's page links a web font from a CDN; the network may be closed, so nothing outside 'self' is loaded.
/** Where bull-board's header menu leads back to. */
export const DASHBOARD_PATH = '/dashboard';

const BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'";

/**
 * bull-board for the catalog queues, mounted at `basePath` as its README
 * shows for Hono (`setBasePath` + `app.route(basePath, registerPlugin())`).
 * The Hono app is only this mount; the API's routes for it have already
 * checked the token (and for a state change the origin, JSON and CSRF token)
 * before they hand it the request. The header's menu links back to the dashboard.
 */
export function createQueueBoard(queues: readonly CatalogQueueMap[JobName][], basePath: string): FetchHandler {
  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    // UIConfig.miscLinks (@bull-board/api 9.10.1, dist/types.d.ts): entries of the header's menu, plain <a href>;
    // the logo (boardLogo) links to the board's own root, so the way back to the dashboard is a menu link.
    options: { uiConfig: { boardTitle: 'differad queues', miscLinks: [{ text: 'Back to the dashboard', url: DASHBOARD_PATH }] } },
  });
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.header('content-security-policy', BOARD_CSP);
    c.header('x-content-type-options', 'nosniff');
  });
  app.route(basePath, serverAdapter.registerPlugin());
  return (request, env) => app.fetch(request, env);
}
