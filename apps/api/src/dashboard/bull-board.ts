import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { CatalogQueueMap, JobName } from '@differad/queue';
import express from 'express';
import type { RequestListener } from '../routes/dashboard-routes.js';

// bull-board's page links a web font from a CDN; the network may be closed, so nothing outside 'self' is loaded.
const BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'";

/**
 * bull-board for the catalog queues, mounted at `basePath` as its README
 * shows for express (`setBasePath` + `app.use(basePath, getRouter())`). The
 * express app is only this mount; the API's own router has already checked
 * the token before a request gets here.
 */
export function createQueueBoard(queues: readonly CatalogQueueMap[JobName][], basePath: string): RequestListener {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'differad queues' } },
  });
  const board = serverAdapter.getRouter() as express.Express;
  board.disable('x-powered-by');
  const app = express();
  app.disable('x-powered-by');
  app.use(basePath, board);
  return (req, res) => {
    res.setHeader('content-security-policy', BOARD_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    app(req, res);
  };
}
