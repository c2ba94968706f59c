import type { TrainConfig } from '@differad/config';
import type { RunSnapshot, StepMetrics } from '@differad/queue';
import type { JobSnapshot } from '../schemas/job-schemas.js';
import { formatNumber, formatTime, type Markup, markup } from './html.js';
import { renderRunCharts } from './run-charts.js';

const stateBadge = (state: string, id?: string): Markup =>
  markup`<span class="state state-${state}"${id === undefined ? null : markup` id="${id}"`}>${state}</span>`;
const runLink = (runId: string): Markup => markup`<a href="/dashboard/runs/${encodeURIComponent(runId)}">${runId}</a>`;
/** A button that {@link DASHBOARD_ACTIONS_SCRIPT} turns into `POST <path>` (JSON and the CSRF token). */
const cancelButton = (path: string): Markup => markup`<button type="button" class="cancel" data-cancel="${path}">Cancel</button>`;
const runCancel = (run: RunSnapshot): Markup | null =>
  run.state === 'created' || run.state === 'running' ? cancelButton(`/v1/runs/${encodeURIComponent(run.runId)}/cancel`) : null;
/** Where the result of a button's request is announced. */
const ACTION_STATUS = markup`<p id="action-status" class="muted" role="status"></p>`;

function renderJobTable(jobs: readonly JobSnapshot[], kind: 'eval' | 'synth'): Markup {
  const plural = kind === 'eval' ? 'evals' : 'synth';
  if (jobs.length === 0)
    return markup`<p class="muted">No ${kind === 'eval' ? 'evaluations' : 'synthesis jobs'} yet (<code>POST /v1/${plural}</code>).</p>`;
  const rows = jobs.map((job) => {
    const id = encodeURIComponent(job.id);
    const links =
      kind === 'eval'
        ? markup`<a href="/v1/evals/${id}/report">report</a> · <a href="/v1/evals/${id}/metrics">metrics</a>`
        : markup`<span class="muted">${job.outDir}</span>`;
    const cancel = job.state === 'running' ? cancelButton(`/v1/${plural}/${id}/cancel`) : null;
    return markup`<tr><td>${job.id}</td><td>${stateBadge(job.state)}</td><td>${formatTime(job.createdAt)}</td><td>${links}</td><td class="muted">${job.message ?? ''}</td><td>${cancel}</td></tr>`;
  });
  return markup`<table class="jobs-${kind}"><thead><tr><th>id</th><th>state</th><th>created (UTC)</th><th></th><th>message</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** `/dashboard`: every run, evaluation and synthesis job, newest first. */
export function renderRunsPage(runs: readonly RunSnapshot[], evals: readonly JobSnapshot[], synth: readonly JobSnapshot[]): Markup {
  const rows = runs.map(
    (run) =>
      markup`<tr><td>${runLink(run.runId)}</td><td>${stateBadge(run.state)}</td><td class="num">${formatNumber(run.lastCompletedStep)}</td><td class="num">${run.weightVersion}</td><td>${formatTime(run.createdAt)}</td><td>${formatTime(run.updatedAt)}</td><td class="muted">${run.message ?? ''}</td><td>${runCancel(run)}</td></tr>`,
  );
  const runTable =
    runs.length === 0
      ? markup`<p class="muted">No runs yet. Submit one with <code>POST /v1/runs</code> (see <a href="/docs">the API</a>).</p>`
      : markup`<table class="runs"><thead><tr><th>run</th><th>state</th><th>last step</th><th>weights</th><th>created (UTC)</th><th>updated (UTC)</th><th>message</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
  return markup`<h1>Runs</h1>${ACTION_STATUS}${runTable}<h2>Evaluations</h2>${renderJobTable(evals, 'eval')}<h2>Synthesis jobs</h2>${renderJobTable(synth, 'synth')}<p class="muted">This page reloads every 10 s. Queues: <a href="/dashboard/queues">bull-board</a>.</p>`;
}

function renderLatest(rows: readonly StepMetrics[]): Markup {
  const last = rows[rows.length - 1];
  if (last === undefined) return markup`<p class="muted">No steps completed yet.</p>`;
  const cells = Object.entries(last.values)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => markup`<tr><th>${k}</th><td class="num">${formatNumber(v)}</td></tr>`);
  return markup`<h2>Step ${last.step} (weights v${last.weightVersion}, ${formatTime(last.at)} UTC)</h2><table class="latest" style="width:auto">${cells}</table>`;
}

/** `/dashboard/runs/:id`: the run's status, live charts, latest step and config. */
export function renderRunPage(
  run: RunSnapshot,
  config: TrainConfig | null,
  rows: readonly StepMetrics[],
  evals: readonly JobSnapshot[],
): Markup {
  const id = encodeURIComponent(run.runId);
  const lastStep = rows[rows.length - 1]?.step;
  const stream = `/v1/runs/${id}/metrics/stream?fromStep=${lastStep === undefined ? 0 : lastStep + 1}`;
  const reports = evals.map((e, i) => markup`${i > 0 ? ', ' : ''}<a href="/v1/evals/${encodeURIComponent(e.id)}/report">${e.id}</a>`);
  const facts = markup`<p>${stateBadge(run.state, 'run-state')} last completed step <b>${formatNumber(run.lastCompletedStep)}</b>${config ? ` of ${config.run.steps}` : ''} · weights v${run.weightVersion} · created ${formatTime(run.createdAt)} UTC${
    run.message ? markup` · <span class="muted">${run.message}</span>` : ''
  } ${runCancel(run)}</p>${ACTION_STATUS}<p class="muted">Metrics as <a href="/v1/runs/${id}/metrics">JSON</a> and as a <a href="${stream}">live stream</a> · <a href="/dashboard/queues">queues</a>${
    evals.length > 0 ? markup` · eval reports: ${reports}` : ''
  }</p>`;
  const live = markup`<div id="live" data-stream="${stream}" data-charts="/dashboard/runs/${id}/charts">${renderRunCharts(rows)}</div>`;
  const configBlock = config ? markup`<details><summary>Config</summary><pre>${JSON.stringify(config, null, 2)}</pre></details>` : '';
  return markup`<h1>Run ${run.runId}</h1>${facts}${live}${renderLatest(rows)}${configBlock}`;
}

/**
 * The run page's script: follows the metrics stream and re-fetches the
 * server-rendered charts when rows arrive (debounced), so there is one chart
 * renderer; without EventSource it polls every 5 s.
 */
export const RUN_PAGE_SCRIPT = `(() => {
  const live = document.getElementById('live');
  const badge = document.getElementById('run-state');
  if (!live) return;
  let timer = null;
  const refresh = () => {
    if (timer !== null) return;
    timer = setTimeout(async () => {
      timer = null;
      const res = await fetch(live.dataset.charts, { credentials: 'same-origin' });
      if (res.ok) live.innerHTML = await res.text();
    }, 250);
  };
  if (typeof EventSource !== 'function') { setInterval(refresh, 5000); return; }
  const events = new EventSource(live.dataset.stream);
  events.addEventListener('metrics', refresh);
  events.addEventListener('state', (e) => {
    const run = JSON.parse(e.data);
    if (badge) { badge.textContent = run.state; badge.className = 'state state-' + run.state; }
  });
  events.addEventListener('end', () => { events.close(); refresh(); });
})();`;

/**
 * The dashboard's buttons: a `data-cancel` button posts to its path as JSON
 * with the session's CSRF token from the page's `csrf-token` meta tag (the
 * API refuses a state change with the cookie but without it), then shows the
 * new state in the button's row and says what happened in `#action-status`.
 */
export const DASHBOARD_ACTIONS_SCRIPT = `(() => {
  const token = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  const status = document.getElementById('action-status');
  const say = (text) => { if (status) status.textContent = text; };
  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-cancel]') : null;
    if (!button) return;
    button.disabled = true;
    try {
      const res = await fetch(button.dataset.cancel, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': token },
        body: '{}',
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error(body?.error?.message ?? 'HTTP ' + res.status);
      const item = body.run ?? body.job;
      const badge = button.closest('tr, p')?.querySelector('.state');
      if (badge) { badge.textContent = item.state; badge.className = 'state state-' + item.state; }
      button.remove();
      say('Cancelled ' + (item.runId ?? item.id) + '.');
    } catch (error) {
      button.disabled = false;
      say('Could not cancel: ' + error.message);
    }
  });
})();`;

/** `/login`: one password field for the token; `error` is shown above it. */
export function renderLoginForm(next: string, error: string | null): Markup {
  return markup`<h1>Log in</h1><form class="login" method="post" action="/login">${error ? markup`<p class="error">${error}</p>` : ''}<label for="token">API token</label><input type="password" id="token" name="token" autocomplete="current-password" required autofocus><input type="hidden" name="next" value="${next}"><button type="submit">Log in</button><p class="muted">The token is <code>DIFFERAD_API_TOKEN</code>, or the one <code>differad api</code> generated and printed the file of at its first start.</p></form>`;
}
