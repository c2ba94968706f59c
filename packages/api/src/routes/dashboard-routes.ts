import { TrainConfigSchema } from '@differad/config';
import { readBodyText, toIncoming } from '@differad/http-server';
import type { RunSnapshot } from '@differad/queue';
import { type Authenticator, isLoopbackAddress, readCookie, toTokenCookie } from '../auth/authenticate.js';
import { createSessionId, type CsrfTokens, isSessionId, SESSION_COOKIE, toBoardCsrfCookie, toSessionCookie } from '../auth/csrf.js';
import { toSafeNext } from '../auth/safe-next.js';
import { createNonce, type Markup, markup, renderPage, toPageCsp } from '../dashboard/html.js';
import { DASHBOARD_ACTIONS_SCRIPT, renderLoginForm, renderRunPage, renderRunsPage, RUN_PAGE_SCRIPT } from '../dashboard/pages.js';
import { renderRunCharts } from '../dashboard/run-charts.js';
import { apiError } from '../errors/api-errors.js';
import { HTML_TYPE, redirect, reply, type ReplyHeaders, toBodyLimit } from '../http/http-io.js';
import { type ApiContext, type HttpMethod, type Route, toRequestUrl } from '../http/router.js';
import type { ApiDeps } from './api-deps.js';
import { readIdParam } from './route-helpers.js';

/** Where bull-board is mounted. */
export const QUEUE_BOARD_PATH = '/dashboard/queues';

/** A fetch handler (bull-board's Hono app), given the request and the server's bindings. */
export type FetchHandler = (request: Request, env: unknown) => Response | Promise<Response>;

interface PageOptions {
  readonly script?: string;
  readonly nav?: boolean;
  readonly headers?: ReplyHeaders;
  /** Embed the session's CSRF token for the page's buttons. */
  readonly csrfToken?: string;
}

function replyPage(c: ApiContext, status: number, title: string, body: Markup, options: PageOptions = {}): Response {
  const nonce = options.script === undefined ? null : createNonce();
  const html = renderPage({
    title,
    body,
    nav: options.nav ?? true,
    ...(nonce === null ? {} : { nonce, script: options.script }),
    ...(options.csrfToken === undefined ? {} : { csrfToken: options.csrfToken }),
  });
  return reply(c, status, HTML_TYPE, html, { 'content-security-policy': toPageCsp(nonce), ...options.headers });
}

/** A fresh session for every login: a CSRF token seen before the login is worth nothing after it. */
function loggedIn(c: ApiContext, token: string, next: string): Response {
  return redirect(c, toSafeNext(next), {
    'set-cookie': [toTokenCookie(token), toSessionCookie(createSessionId())],
    'cache-control': 'no-store',
  });
}

/**
 * The request's dashboard session id; a browser whose cookie predates sessions
 * (or lost it) gets a new one in `setCookie`, so the page it is about to load
 * carries a token that works.
 */
function toSession(c: ApiContext): { id: string; setCookie: string[] } {
  const current = readCookie(c.req.header('cookie'), SESSION_COOKIE);
  if (isSessionId(current)) return { id: current, setCookie: [] };
  const id = createSessionId();
  return { id, setCookie: [toSessionCookie(id)] };
}

async function loadRunPage(deps: ApiDeps, c: ApiContext): Promise<RunSnapshot> {
  const runId = readIdParam(c, 'run');
  const run = await deps.runStore.loadRun(runId);
  if (run === null) throw apiError('API_NOT_FOUND', `no run ${runId}`, { runId });
  return run;
}

/** bull-board behind the API's guards: GET pages carry its CSRF cookie; without bull-board installed, a 503 page says so. */
function createBoardRoutes(csrf: CsrfTokens, queueBoard: FetchHandler | null): Route[] {
  return (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const satisfies readonly HttpMethod[]).map((method) => ({
    method,
    path: `${QUEUE_BOARD_PATH}/*`,
    auth: true,
    page: true,
    writes: 'board',
    handlers: [
      async (c: ApiContext) => {
        if (queueBoard === null) {
          return replyPage(
            c,
            503,
            'Queues',
            markup`<h1>Queues</h1><p>bull-board is not installed: run <code>npm ci</code> in the workspace.</p>`,
          );
        }
        const answer = await queueBoard(c.req.raw, c.env);
        if (method !== 'GET') return answer;
        // bull-board's axios echoes this cookie in X-XSRF-Token on its same-origin requests.
        const session = toSession(c);
        const withCookies = new Response(answer.body, answer);
        for (const cookie of [...session.setCookie, toBoardCsrfCookie(csrf.tokenFor(session.id), QUEUE_BOARD_PATH)])
          withCookies.headers.append('set-cookie', cookie);
        return withCookies;
      },
    ],
  }));
}

/** The login flow, the dashboard pages and the bull-board mount (`queueBoard`, null when bull-board is not installed). */
export function createDashboardRoutes(deps: ApiDeps, auth: Authenticator, csrf: CsrfTokens, queueBoard: FetchHandler | null): Route[] {
  const loginPage = (c: ApiContext, status: number, next: string, error: string | null) =>
    replyPage(c, status, 'Log in', renderLoginForm(next, error), { nav: false });
  /** A page with buttons: the session's CSRF token embedded, the session cookie set when it was missing. */
  const replyActionPage = (c: ApiContext, title: string, body: Markup, script: string, headers: Record<string, string> = {}) => {
    const session = toSession(c);
    return replyPage(c, 200, title, body, {
      script,
      csrfToken: csrf.tokenFor(session.id),
      headers: { ...headers, ...(session.setCookie.length > 0 ? { 'set-cookie': session.setCookie } : {}) },
    });
  };
  return [
    {
      method: 'GET',
      path: '/login',
      auth: false,
      page: true,
      handlers: [
        async (c) => {
          const query = toRequestUrl(c).searchParams;
          const next = toSafeNext(query.get('next'));
          const token = query.get('token');
          if (token === null) return loginPage(c, 200, next, null);
          // A token in a URL ends up in histories and logs: accepted only from this machine (scripts, headless tests).
          if (!isLoopbackAddress(toIncoming(c)?.socket.remoteAddress))
            return loginPage(c, 401, next, 'A token in the URL is accepted only from 127.0.0.1; use the form.');
          if (!auth.matches(token)) return loginPage(c, 401, next, 'Wrong token.');
          return loggedIn(c, token, next);
        },
      ],
    },
    {
      method: 'POST',
      path: '/login',
      auth: false,
      page: true,
      writes: 'form',
      handlers: [
        async (c) => {
          const form = new URLSearchParams(await readBodyText(c, toBodyLimit(8 * 1024)));
          const next = toSafeNext(form.get('next'));
          const token = form.get('token') ?? '';
          if (!auth.matches(token)) return loginPage(c, 401, next, 'Wrong token.');
          return loggedIn(c, token, next);
        },
      ],
    },
    {
      method: 'POST',
      path: '/logout',
      auth: false,
      page: true,
      writes: 'form',
      handlers: [
        async (c) => {
          const cookies = [toTokenCookie(null), toSessionCookie(null), toBoardCsrfCookie(null, QUEUE_BOARD_PATH)];
          return redirect(c, '/login', { 'set-cookie': cookies, 'cache-control': 'no-store' });
        },
      ],
    },
    { method: 'GET', path: '/', auth: true, page: true, handlers: [async (c) => redirect(c, '/dashboard')] },
    {
      method: 'GET',
      path: '/dashboard',
      auth: true,
      page: true,
      handlers: [
        async (c) => {
          const ids = await deps.runStore.listRuns(100);
          const runs = (await Promise.all(ids.map((id) => deps.runStore.loadRun(id)))).filter((r): r is RunSnapshot => r !== null);
          const [evals, synth] = await Promise.all([deps.jobStore.list('eval', 50), deps.jobStore.list('synth', 50)]);
          return replyActionPage(c, 'Runs', renderRunsPage(runs, evals, synth), DASHBOARD_ACTIONS_SCRIPT, { refresh: '10' });
        },
      ],
    },
    {
      method: 'GET',
      path: '/dashboard/runs/:id',
      auth: true,
      page: true,
      handlers: [
        async (c) => {
          const run = await loadRunPage(deps, c);
          const [config, rows, evals] = await Promise.all([
            deps.runStore.loadConfig(run.runId, TrainConfigSchema).catch(() => null),
            deps.runStore.readMetrics(run.runId),
            deps.jobStore.list('eval', 20),
          ]);
          return replyActionPage(
            c,
            `Run ${run.runId}`,
            renderRunPage(run, config, rows, evals),
            `${RUN_PAGE_SCRIPT}\n${DASHBOARD_ACTIONS_SCRIPT}`,
          );
        },
      ],
    },
    {
      method: 'GET',
      path: '/dashboard/runs/:id/charts',
      auth: true,
      page: true,
      handlers: [
        async (c) => {
          const run = await loadRunPage(deps, c);
          return reply(c, 200, HTML_TYPE, renderRunCharts(await deps.runStore.readMetrics(run.runId)).toString());
        },
      ],
    },
    ...createBoardRoutes(csrf, queueBoard),
  ];
}
