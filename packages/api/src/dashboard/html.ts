import { randomBytes } from 'node:crypto';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** Markup made by {@link markup} (or `raw` on trusted markup): inserted into other templates as it is. */
export type Markup = HtmlEscapedString;

/**
 * hono/html's `html` tag for the API's pages, which never await: every value
 * that is not {@link Markup} is escaped (text and attribute values alike),
 * arrays are joined, and null, undefined and booleans leave nothing.
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  const out = html(strings, ...values);
  if (out instanceof Promise) throw new TypeError('a page template was given a promise');
  return out;
}

/** A fresh CSP nonce for one page's inline script. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The Content-Security-Policy of the API's own pages: nothing from elsewhere, scripts only with the page's nonce. */
export function toPageCsp(nonce: string | null): string {
  const script = nonce === null ? "'none'" : `'nonce-${nonce}'`;
  return `default-src 'self'; script-src ${script}; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1d2433; --muted: #5b6478; --line: #d9dee8; --accent: #2754c5; --bg: #f6f7fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.5rem; align-items: center; padding: .7rem 1.5rem; background: #1d2433; color: #fff; }
header a { color: #cfd8ff; text-decoration: none; } header strong { font-size: 1.05rem; }
main { padding: 1.2rem 1.5rem; max-width: 1200px; }
h1 { font-size: 1.3rem; margin: .2rem 0 1rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: #eef1f7; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: var(--accent); } .muted { color: var(--muted); }
.state { padding: .05rem .45rem; border-radius: .6rem; font-size: .85em; background: #e7ebf3; }
.state-running { background: #dbeafe; } .state-completed { background: #dcfce7; } .state-failed { background: #fee2e2; } .state-cancelled { background: #e2e8f0; color: #475569; } .state-paused, .state-interrupted { background: #fef3c7; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); padding: .5rem; }
figcaption { font-weight: 600; margin: 0 0 .3rem .3rem; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.legend span { margin-right: 1rem; } .legend span[title] { cursor: help; } .note { font-size: .85em; margin: .3rem .3rem 0; } .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
form.login { background: #fff; border: 1px solid var(--line); padding: 1.2rem; max-width: 420px; }
form.login input[type=password] { width: 100%; padding: .45rem; margin: .4rem 0 .8rem; }
button { padding: .45rem .9rem; } .error { color: #b91c1c; }
pre { background: #fff; border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 24rem; }
`;

/** Options of {@link renderPage}. */
export interface PageOptions {
  readonly title: string;
  readonly body: Markup;
  /** Inline script (needs `nonce`): a constant of the API, never data. */
  readonly script?: string;
  readonly nonce?: string;
  /** Show the navigation (off for the login page). */
  readonly nav?: boolean;
  /** The session's CSRF token, as `<meta name="csrf-token">` for the page's script to echo. */
  readonly csrfToken?: string;
}

const NAV = markup`<header><strong>differad</strong><a href="/dashboard">Runs</a><a href="/dashboard/queues">Queues</a><a href="/docs">API</a><form method="post" action="/logout" style="margin-left:auto"><button type="submit">Log out</button></form></header>`;
const BARE_NAV = markup`<header><strong>differad</strong></header>`;

/** A whole page: inline CSS, the navigation, and at most one inline script. No external assets: the network may be closed. */
export function renderPage(options: PageOptions): string {
  // The style and the script are the API's own constants: raw, since a <style> or <script> element decodes no entities.
  const script =
    options.script !== undefined && options.nonce !== undefined
      ? markup`<script nonce="${options.nonce}">${raw(options.script)}</script>`
      : null;
  const csrf = options.csrfToken === undefined ? null : markup`<meta name="csrf-token" content="${options.csrfToken}">`;
  return markup`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${csrf}<title>${options.title} · differad</title><style>${raw(STYLE)}</style></head><body>${options.nav === false ? BARE_NAV : NAV}<main>${options.body}</main>${script}</body></html>`.toString();
}

/** A number for a table cell: 4 significant digits, `–` for null. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

/** Unix ms as `2026-11-28 18:45:47` (UTC). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}
