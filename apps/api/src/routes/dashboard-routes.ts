import type { IncomingMessage, ServerResponse } from 'node:http';
import { TrainConfigSchema } from '@differad/config';
import type { RunSnapshot } from '@differad/queue';
import { type Authenticator, isLoopbackPeer, readCookie, toTokenCookie } from '../auth/authenticate.js';
import { createSessionId, type CsrfTokens, isSessionId, SESSION_COOKIE, toBoardCsrfCookie, toSessionCookie } from '../auth/csrf.js';
import { toSafeNext } from '../auth/safe-next.js';
import { createNonce, renderPage, toPageCsp } from '../dashboard/html.js';
import { DASHBOARD_ACTIONS_SCRIPT, renderLoginForm, renderRunPage, renderRunsPage, RUN_PAGE_SCRIPT } from '../dashboard/pages.js';
import { renderRunCharts } from '../dashboard/run-charts.js';
import { apiError } from '../errors/api-errors.js';
import { readBody, send, sendHtml } from '../http/http-io.js';
import type { HttpMethod, Route, RouteContext } from '../http/router.js';
import type { ApiDeps } from './api-deps.js';
import { readIdParam } from './route-helpers.js';

/** Where bull-board is mounted. */
export const QUEUE_BOARD_PATH = '/dashboard/queues';

/** A Node request listener (bull-board's express app). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

interface PageOptions {
  readonly script?: string;
  readonly nav?: boolean;
  readonly headers?: Record<string, string | string[]>;
  /** Embed the session's CSRF token for the page's buttons. */
  readonly csrfToken?: string;
}

function sendPage(ctx: RouteContext, status: number, title: string, body: string, options: PageOptions = {}): void {
  const nonce = options.script === undefined ? null : createNonce();
  const html = renderPage({
    title,
    body,
    nav: options.nav ?? true,
    ...(nonce === null ? {} : { nonce, script: options.script }),
    ...(options.csrfToken === undefined ? {} : { csrfToken: options.csrfToken }),
  });
  sendHtml(ctx.res, status, html, { 'content-security-policy': toPageCsp(nonce), ...options.headers });
}

/** A fresh session for every login: a CSRF token seen before the login is worth nothing after it. */
function loggedIn(ctx: RouteContext, token: string, next: string): void {
  ctx.res.writeHead(303, { location: toSafeNext(next), 'set-cookie': [toTokenCookie(token), toSessionCookie(createSessionId())], 'cache-control': 'no-store' }).end();
}

/**
 * The request's dashboard session id; a browser whose cookie predates sessions
 * (or lost it) gets a new one in `setCookie`, so the page it is about to load
 * carries a token that works.
 */
function toSession(ctx: RouteContext): { id: string; setCookie: string[] } {
  const current = readCookie(ctx.req.headers.cookie, SESSION_COOKIE);
  if (isSessionId(current)) return { id: current, setCookie: [] };
  const id = createSessionId();
  return { id, setCookie: [toSessionCookie(id)] };
}

async function loadRunPage(deps: ApiDeps, ctx: RouteContext): Promise<RunSnapshot> {
  const runId = readIdParam(ctx, 'run');
  const run = await deps.runStore.loadRun(runId);
  if (run === null) throw apiError('API_NOT_FOUND', `no run ${runId}`, { runId });
  return run;
}

/** The login flow, the dashboard pages and the bull-board mount (`queueBoard`, null when bull-board is not installed). */
export function createDashboardRoutes(deps: ApiDeps, auth: Authenticator, csrf: CsrfTokens, queueBoard: RequestListener | null): Route[] {
  const loginPage = (ctx: RouteContext, status: number, next: string, error: string | null) => sendPage(ctx, status, 'Log in', renderLoginForm(next, error), { nav: false });
  /** A page with buttons: the session's CSRF token embedded, the session cookie set when it was missing. */
  const sendActionPage = (ctx: RouteContext, title: string, body: string, script: string, headers: Record<string, string> = {}) => {
    const session = toSession(ctx);
    sendPage(ctx, 200, title, body, {
      script,
      csrfToken: csrf.tokenFor(session.id),
      headers: { ...headers, ...(session.setCookie.length > 0 ? { 'set-cookie': session.setCookie } : {}) },
    });
  };
  const board: Route[] = (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const satisfies readonly HttpMethod[]).map((method) => ({
    method,
    path: `${QUEUE_BOARD_PATH}/*`,
    auth: true,
    page: true,
    writes: 'board',
    handle(ctx: RouteContext) {
      if (queueBoard === null) {
        sendPage(ctx, 503, 'Queues', '<h1>Queues</h1><p>bull-board is not installed: run <code>npm ci</code> in the workspace.</p>');
        return;
      }
      if (method === 'GET') {
        // bull-board's axios echoes this cookie in X-XSRF-Token on its same-origin requests.
        const session = toSession(ctx);
        ctx.res.setHeader('set-cookie', [...session.setCookie, toBoardCsrfCookie(csrf.tokenFor(session.id), QUEUE_BOARD_PATH)]);
      }
      queueBoard(ctx.req, ctx.res);
    },
  }));
  return [
    {
      method: 'GET',
      path: '/login',
      auth: false,
      page: true,
      handle(ctx) {
        const next = toSafeNext(ctx.url.searchParams.get('next'));
        const token = ctx.url.searchParams.get('token');
        if (token === null) return loginPage(ctx, 200, next, null);
        // A token in a URL ends up in histories and logs: accepted only from this machine (scripts, headless tests).
        if (!isLoopbackPeer(ctx.req)) return loginPage(ctx, 401, next, 'A token in the URL is accepted only from 127.0.0.1; use the form.');
        if (!auth.matches(token)) return loginPage(ctx, 401, next, 'Wrong token.');
        loggedIn(ctx, token, next);
      },
    },
    {
      method: 'POST',
      path: '/login',
      auth: false,
      page: true,
      writes: 'form',
      async handle(ctx) {
        const form = new URLSearchParams(await readBody(ctx.req, 8 * 1024));
        const next = toSafeNext(form.get('next'));
        const token = form.get('token') ?? '';
        if (!auth.matches(token)) return loginPage(ctx, 401, next, 'Wrong token.');
        loggedIn(ctx, token, next);
      },
    },
    {
      method: 'POST',
      path: '/logout',
      auth: false,
      page: true,
      writes: 'form',
      handle(ctx) {
        ctx.req.resume();
        const cookies = [toTokenCookie(null), toSessionCookie(null), toBoardCsrfCookie(null, QUEUE_BOARD_PATH)];
        ctx.res.writeHead(303, { location: '/login', 'set-cookie': cookies, 'cache-control': 'no-store' }).end();
      },
    },
    {
      method: 'GET',
      path: '/',
      auth: true,
      page: true,
      handle(ctx) {
        ctx.res.writeHead(303, { location: '/dashboard' }).end();
      },
    },
    {
      method: 'GET',
      path: '/dashboard',
      auth: true,
      page: true,
      async handle(ctx) {
        const ids = await deps.runStore.listRuns(100);
        const runs = (await Promise.all(ids.map((id) => deps.runStore.loadRun(id)))).filter((r): r is RunSnapshot => r !== null);
        const [evals, synth] = await Promise.all([deps.jobStore.list('eval', 50), deps.jobStore.list('synth', 50)]);
        sendActionPage(ctx, 'Runs', renderRunsPage(runs, evals, synth), DASHBOARD_ACTIONS_SCRIPT, { refresh: '10' });
      },
    },
    {
      method: 'GET',
      path: '/dashboard/runs/:id',
      auth: true,
      page: true,
      async handle(ctx) {
        const run = await loadRunPage(deps, ctx);
        const [config, rows, evals] = await Promise.all([
          deps.runStore.loadConfig(run.runId, TrainConfigSchema).catch(() => null),
          deps.runStore.readMetrics(run.runId),
          deps.jobStore.list('eval', 20),
        ]);
        sendActionPage(ctx, `Run ${run.runId}`, renderRunPage(run, config, rows, evals), `${RUN_PAGE_SCRIPT}\n${DASHBOARD_ACTIONS_SCRIPT}`);
      },
    },
    {
      method: 'GET',
      path: '/dashboard/runs/:id/charts',
      auth: true,
      page: true,
      async handle(ctx) {
        const run = await loadRunPage(deps, ctx);
        send(ctx.res, 200, 'text/html; charset=utf-8', renderRunCharts(await deps.runStore.readMetrics(run.runId)));
      },
    },
    ...board,
  ];
}
