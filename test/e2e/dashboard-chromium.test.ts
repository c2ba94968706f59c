import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '@differad/http-server';
import { connectRedis, createCatalogQueues, createRunStore, type EmbeddedRedis, type RunStore, startEmbeddedRedis } from '@differad/queue';
import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchCdpChromium } from './chromium-cdp.js';
import { CLI_BIN, runCli } from './run-cli.js';

// Screenshots land here (gitignored) for a person or CI to look at.
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const TOKEN = 'e2e-dashboard-token-0123456789';
// Every host name but 127.0.0.1 fails to resolve, so a redirect off-site ends on an error page at once.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--hide-scrollbars',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

let dir: string;
let redis: EmbeddedRedis;
let client: Redis;
let store: RunStore;
let api: ChildProcess;
let apiExited: Promise<number | null>;
let url: string;
/** Another origin on the same host (same site, other port): a page anyone could run on this machine. */
let evil: RunningServer | undefined;
let evilUrl: string;

function startApiProcess(): Promise<string> {
  api = spawn(process.execPath, [CLI_BIN, 'api', '--port', '0', '--data-root', 'data', '--runs-dir', 'runs', '--state-dir', 'state'], {
    cwd: dir,
    env: { ...process.env, DIFFERAD_REDIS_URL: redis.url, DIFFERAD_API_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  apiExited = new Promise((resolve) => api.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    api.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]!);
    });
    void apiExited.then((code) => reject(new Error(`differad api exited (${code}) before listening`)));
  });
}

/** Headless Chromium with a fresh profile; resolves with stdout once it exits, or kills its process group after `timeoutMs`. */
async function chromium(args: readonly string[], timeoutMs = 45_000): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'differad-chromium-'));
  try {
    const child = spawn('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], {
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    if (code !== 0) throw new Error(`chromium exited with ${code} for ${args.join(' ')}`);
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The page at `path` after logging in through the loopback-only `/login?token=` link. */
const loginUrl = (path: string) => `${url}/login?token=${encodeURIComponent(TOKEN)}&next=${encodeURIComponent(path)}`;
const dumpDom = (target: string, budgetMs = 5000) => chromium([`--virtual-time-budget=${budgetMs}`, '--dump-dom', target]);
async function screenshot(target: string, name: string, size: string): Promise<void> {
  await chromium(['--virtual-time-budget=5000', `--window-size=${size}`, `--screenshot=${join(ARTIFACTS, name)}`, target]);
  expect((await stat(join(ARTIFACTS, name))).size).toBeGreaterThan(10_000);
}

/** The SVG of the chart figure titled `title` in a dumped page. */
function figure(dom: string, title: string): string {
  const start = dom.indexOf(`<figure data-chart="${title}">`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  return dom.slice(start, dom.indexOf('</figure>', start));
}

const row = (step: number) => ({
  step,
  weightVersion: step + 1,
  at: 1_800_000_000_000 + step * 1000,
  values: {
    reward_mean: 0.3 + step / 30,
    reward_std: 0.2 - step / 100,
    frac_degenerate: Math.max(0, 0.5 - step / 20),
    resamples: Math.max(0, 6 - step),
    eval_acc: step % 4 === 3 ? 0.3 + step / 30 : null,
    loss: 0.04 - step / 100,
    kl: step === 0 ? 0 : step * 2e-5,
    clip_fraction: step / 200,
    grad_norm: 1.5 + (step % 3) / 4,
    // As step-worker measures them: per-group sums that overlap, the step's wall-clock phases, and its total.
    rollout_ms: 4 * (300 + step * 5),
    score_ms: 4 * 40,
    wait_ms: 360 + step * 5,
    train_ms: 120,
    sync_ms: 30,
    eval_ms: step % 4 === 3 ? 90 : null,
    total_ms: 560 + step * 5 + (step % 4 === 3 ? 90 : 0),
  },
});

/** Every chart of the run page, with the kind of its y ticks. */
const CHARTS = [
  ['Reward (mean ± std)', 'value'],
  ['Fraction degenerate', 'rate'],
  ['Resamples', 'count'],
  ['Held-out Acc@0.3', 'rate'],
  ['Loss', 'value'],
  ['KL', 'value'],
  ['Clip fraction', 'rate'],
  ['Grad norm', 'value'],
  ['Step time', 'value'],
] as const;

/** The tick labels of one axis of a chart's SVG. */
const tickLabels = (svg: string, axis: 'x' | 'y') =>
  [...svg.matchAll(new RegExp(`<text class="tick-${axis}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
const decimals = (label: string) => label.split('.')[1]?.length ?? 0;

beforeAll(async () => {
  if (spawnSync('chromium', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('the dashboard tests need Chromium: sudo apt-get install -y chromium');
  }
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-dashboard-'));
  await mkdir(ARTIFACTS, { recursive: true });
  redis = await startEmbeddedRedis();
  client = await connectRedis(redis.url, 'producer');
  store = createRunStore(client);
  await store.createRun('dash-run', { run: { steps: 12 }, data: { train: 'x.jsonl' } });
  await store.setState('dash-run', 'running');
  for (let step = 0; step < 12; step++) {
    await store.completeStep('dash-run', step, step + 1);
    await store.appendMetrics('dash-run', row(step));
  }
  await store.setState('dash-run', 'completed');
  await store.createRun('stopped-run', { run: { steps: 12 }, data: { train: 'x.jsonl' } });
  await store.setState('stopped-run', 'running');
  await store.appendMetrics('stopped-run', row(0));
  await store.setState('stopped-run', 'cancelled', 'cancelled through the API');
  await store.createRun('broken-run', { run: { steps: 12 }, data: { train: 'x.jsonl' } });
  await store.setState('broken-run', 'failed', 'differad train exited with code 1');
  const queues = createCatalogQueues(client);
  await queues.queues.rollout.add(
    'rollout',
    { runId: 'dash-run', step: 12, pairIndex: 0, pairId: 'pair-7', attempt: 0, seed: 1, weightVersion: 13 },
    { jobId: 'dash-run.12.0.0' },
  );
  await queues.close();
  expect((await runCli(['example', '--out', join(dir, 'data', 'ex'), '--pairs', '4', '--seed', '3'])).code).toBe(0);
  url = await startApiProcess();
  evil = await startServer(new Hono().get('*', (c) => c.html('<!doctype html><title>elsewhere</title><p>another origin</p>')));
  evilUrl = evil.url;
}, 60_000);

afterAll(async () => {
  await evil?.close();
  if (api && api.exitCode === null) {
    api.kill('SIGTERM');
    await apiExited;
  }
  await client?.quit();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

describe('the dashboard in headless Chromium', () => {
  it('sends a browser without the cookie to the login page, and refuses a wrong token', async () => {
    const dom = await dumpDom(`${url}/dashboard/runs/dash-run`);
    expect(dom).toContain('<form class="login" method="post" action="/login">');
    expect(dom).toContain('value="/dashboard/runs/dash-run"');
    const wrong = await dumpDom(`${url}/login?token=wrong-token-0123456789`);
    expect(wrong).toContain('Wrong token.');
  });

  it('logs in and draws the run page: every chart has its points, the band and the stacked time bars', async () => {
    const dom = await dumpDom(loginUrl('/dashboard/runs/dash-run'));
    expect(dom).toContain('<h1>Run dash-run</h1>');
    expect(dom).toMatch(/id="run-state">completed</);
    const reward = figure(dom, 'Reward (mean ± std)');
    expect(reward.match(/<circle [^>]*data-step="\d+"/g)).toHaveLength(12);
    expect(reward).toMatch(/<path class="band"[^>]* d="M[\d.,L]+Z"/);
    expect(reward).toMatch(/<path class="series"[^>]* d="M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){11}"/);
    for (const title of ['Fraction degenerate', 'Resamples', 'Loss', 'KL', 'Clip fraction', 'Grad norm'])
      expect(figure(dom, title).match(/<circle /g), title).toHaveLength(12);
    expect(figure(dom, 'Held-out Acc@0.3').match(/<circle /g)).toHaveLength(3);
    expect(figure(dom, 'Step time').match(/<g class="bar" /g)).toHaveLength(12);
    await screenshot(loginUrl('/dashboard/runs/dash-run'), 'run-page.png', '1280,2000');
  }, 60_000);

  it('titles every chart and labels its axes with nice ticks: integers on counts, one number of decimals per chart', async () => {
    const dom = await dumpDom(loginUrl('/dashboard/runs/dash-run'));
    expect([...dom.matchAll(/<figure data-chart="([^"]+)">/g)].map((m) => m[1])).toEqual(CHARTS.map(([title]) => title));
    for (const [title, kind] of CHARTS) {
      const chart = figure(dom, title);
      expect(chart, title).toContain(`<figcaption>${title}</figcaption><svg class="chart" role="img" aria-label="${title}"`);
      const y = tickLabels(chart, 'y');
      expect(y.length, title).toBeGreaterThanOrEqual(2);
      expect(new Set(y.map(decimals)).size, `${title}: ${y.join(' ')}`).toBe(1);
      if (kind === 'count')
        expect(
          y.every((l) => /^-?\d+$/.test(l)),
          `${title}: ${y.join(' ')}`,
        ).toBe(true);
      if (kind === 'rate')
        expect(
          y.every((l) => Number(l) >= 0 && Number(l) <= 1),
          `${title}: ${y.join(' ')}`,
        ).toBe(true);
      expect(
        tickLabels(chart, 'x').every((l) => /^\d+$/.test(l)),
        title,
      ).toBe(true);
    }
    // Resamples 6 … 0: whole numbers, not -0.2000 … 4.200.
    expect(tickLabels(figure(dom, 'Resamples'), 'y')).toEqual(['0', '2', '4', '6']);
    expect(tickLabels(figure(dom, 'Resamples'), 'x')).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(tickLabels(figure(dom, 'Fraction degenerate'), 'y')).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(tickLabels(figure(dom, 'Loss'), 'y')).toEqual(['-0.10', '-0.05', '0.00', '0.05']);
    expect(tickLabels(figure(dom, 'KL'), 'y')).toEqual(['0.0', '0.5', '1.0', '1.5', '2.0', '2.5']);
    expect(figure(dom, 'KL')).toContain('>KL (×10⁻⁴)</text>');
    expect(tickLabels(figure(dom, 'Step time'), 'y')).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8']);
  }, 60_000);

  it('draws each step-time bar as a partition of the step: its parts sum to total_ms', async () => {
    const dom = await dumpDom(loginUrl('/dashboard/runs/dash-run'));
    const time = figure(dom, 'Step time');
    const bars = [...time.matchAll(/<g class="bar" data-step="(\d+)" data-total="([\d.]+)">(.*?)<\/g>/g)];
    expect(bars.map((b) => Number(b[1]))).toEqual([...Array(12).keys()]);
    for (const [, step, total, rects] of bars) {
      const expected = row(Number(step)).values;
      expect(Number(total)).toBe(expected.total_ms / 1000);
      const parts = Object.fromEntries(
        [...rects!.matchAll(/data-part="([^"]+)" data-value="([\d.e-]+)"/g)].map((m) => [m[1]!, Number(m[2])]),
      );
      expect(
        Object.values(parts).reduce((a, b) => a + b, 0),
        `step ${step}`,
      ).toBeCloseTo(Number(total), 9);
      expect(parts['wait for groups']).toBe(expected.wait_ms / 1000);
      expect(parts.eval ?? null).toBe(expected.eval_ms === null ? null : expected.eval_ms / 1000);
      // The summed per-group rollout time (4 groups side by side) is more than the step: it is in the tooltip, not a part.
      expect(expected.rollout_ms).toBeGreaterThan(expected.total_ms);
      expect(rects).toContain(`rollouts Σ ${(expected.rollout_ms / 1000).toPrecision(4)} s`);
    }
    for (const part of ['wait for groups', 'train', 'sync', 'eval', 'other'])
      expect(time).toMatch(new RegExp(`<span title="[^"]+"><i [^>]*></i>${part}</span>`));
    expect(time).toContain('<p class="note muted">Each bar is the step’s total_ms');
  }, 60_000);

  it('shows a cancelled run as cancelled, in a style of its own, not as failed', async () => {
    const dom = await dumpDom(loginUrl('/dashboard/runs/stopped-run'));
    expect(dom).toMatch(/<span class="state state-cancelled" id="run-state">cancelled<\/span>/);
    expect(dom).not.toContain('data-cancel=');
    const browser = await launchCdpChromium(CHROMIUM_FLAGS);
    try {
      const page = await browser.newPage();
      await page.navigate(loginUrl('/dashboard'));
      const badges = await page.evaluate<
        Record<string, { text: string; background: string }>
      >(`Object.fromEntries([...document.querySelectorAll('table.runs tr')].slice(1).map((tr) => {
        const badge = tr.querySelector('.state');
        return [tr.querySelector('a').textContent, { text: badge.textContent, background: getComputedStyle(badge).backgroundColor }];
      }))`);
      expect(badges['stopped-run']?.text).toBe('cancelled');
      expect(badges['broken-run']?.text).toBe('failed');
      expect(badges['stopped-run']?.background).not.toBe(badges['broken-run']?.background);
    } finally {
      await browser.close();
    }
    await screenshot(loginUrl('/dashboard/runs/stopped-run'), 'run-page-cancelled.png', '1280,900');
  }, 60_000);

  it('updates a running run page live from the metrics stream until the run ends', async () => {
    await store.createRun('live-run', { run: { steps: 3 }, data: { train: 'x.jsonl' } });
    await store.setState('live-run', 'running');
    await store.beat('live-run', { pid: process.pid, host: 'test' }, 3_600_000);
    await store.appendMetrics('live-run', row(0));
    // The page's stream asks Redis for rows after step 0: seeing that query means the browser is following it.
    const monitor = await client.monitor();
    const following = new Promise<void>((resolve) => {
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'xrange' && args[1]?.endsWith(':run:live-run:metrics') && args[2] === '1-0') resolve();
      });
    });
    const page = dumpDom(loginUrl('/dashboard/runs/live-run'), 3000);
    await following;
    monitor.disconnect();
    await store.appendMetrics('live-run', row(1));
    await store.appendMetrics('live-run', row(2));
    await store.setState('live-run', 'completed');
    const dom = await page;
    expect(dom).toMatch(/id="run-state">completed</);
    expect(figure(dom, 'Reward (mean ± std)').match(/data-step="(\d)"/g)).toEqual(['data-step="0"', 'data-step="1"', 'data-step="2"']);
  }, 60_000);

  it("shows the run's queues in bull-board, with the run's job in the rollout queue", async () => {
    const dom = await dumpDom(loginUrl('/dashboard/queues/queue/rollout'), 8000);
    for (const name of ['rollout', 'score', 'resample', 'step']) expect(dom).toContain(`>${name}<`);
    for (const name of ['sync', 'eval']) expect(dom).not.toContain(`>${name}<`);
    expect(dom).toContain('dash-run.12.0.0');
    expect(dom).toContain('pair-7');
    await screenshot(loginUrl('/dashboard/queues/queue/rollout'), 'queues.png', '1280,900');
  }, 60_000);

  it("links bull-board back to the dashboard from its header's menu", async () => {
    const browser = await launchCdpChromium(CHROMIUM_FLAGS);
    try {
      const page = await browser.newPage();
      await page.navigate(loginUrl('/dashboard/queues'));
      // bull-board renders in the browser: wait for its header, open the menu of miscLinks (the last header action), follow the link.
      const link = await page.evaluate<{ text: string; href: string }>(`(async () => {
        const find = (pick) => new Promise((resolve) => {
          const look = () => { const found = pick(); if (found) { observer.disconnect(); resolve(found); } };
          const observer = new MutationObserver(look);
          observer.observe(document.documentElement, { childList: true, subtree: true, attributes: true });
          look();
        });
        const trigger = await find(() => document.querySelector('header ul > li:last-child button'));
        for (const type of ['pointerdown', 'mousedown', 'pointerup', 'mouseup']) trigger.dispatchEvent(new PointerEvent(type, { bubbles: true, button: 0, pointerType: 'mouse' }));
        trigger.click();
        const a = await find(() => [...document.querySelectorAll('a')].find((el) => el.getAttribute('href') === '/dashboard'));
        return { text: a.textContent, href: a.getAttribute('href') };
      })()`);
      expect(link).toEqual({ text: 'Back to the dashboard', href: '/dashboard' });
      const back = page.nextLoad();
      await page.evaluate(`[...document.querySelectorAll('a')].find((el) => el.getAttribute('href') === '/dashboard').click()`);
      await back;
      expect(await page.evaluate<string>('location.pathname + " " + document.querySelector("h1").textContent')).toBe('/dashboard Runs');
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('lists the runs with links to their pages', async () => {
    const dom = await dumpDom(loginUrl('/dashboard'));
    expect(dom).toContain('<a href="/dashboard/runs/dash-run">dash-run</a>');
    expect(dom).toContain('<a href="/dashboard/runs/live-run">live-run</a>');
    await screenshot(loginUrl('/dashboard'), 'runs.png', '1280,700');
  }, 60_000);
});

/** A REST call with the bearer token: how the tests check what a browser did. */
async function rest<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.ok, `${path}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

type Job = { id: string; state: string };

describe('the dashboard cookie against other origins of this host', () => {
  it("lets a page on another 127.0.0.1 port neither start nor cancel a job, while the dashboard's own cancel button works", async () => {
    // A synthesis job long enough to still be running when the page tries to cancel it.
    const { job: target } = await rest<{ job: Job }>('/v1/synth', {
      normals: 'ex/images',
      count: 1_000_000,
      size: 512,
      foreground: 'none',
    });
    const small = JSON.stringify({ normals: 'ex/images', count: 1, size: 64, foreground: 'none' });
    const browser = await launchCdpChromium(CHROMIUM_FLAGS);
    try {
      const page = await browser.newPage();
      await page.navigate(loginUrl('/dashboard'));
      expect(await page.evaluate<string>('document.querySelector("h1").textContent')).toBe('Runs');

      await page.navigate(`${evilUrl}/`);
      const attempts = await page.evaluate<{ noType: string; json: string }>(`(async () => {
        const api = ${JSON.stringify(url)};
        const outcome = (p) => p.then((r) => 'answered ' + r.type + ' ' + r.status, (e) => 'refused ' + e.name);
        // (a) a "simple" request: no preflight, no Content-Type (a Blob without a type), the cookie attached.
        const noType = await outcome(fetch(api + '/v1/synth', { method: 'POST', mode: 'no-cors', credentials: 'include', body: new Blob([${JSON.stringify(small)}]) }));
        // (c) JSON needs a CORS preflight, which the API never grants.
        const json = await outcome(fetch(api + '/v1/synth', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(small)} }));
        return { noType, json };
      })()`);
      expect(attempts.noType).toBe('answered opaque 0');
      expect(attempts.json).toBe('refused TypeError');

      // (b) a plain HTML form posted to the cancel route: a top-level navigation that carries the cookie.
      const answered = page.nextLoad();
      await page.evaluate(`(() => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = ${JSON.stringify(`${url}/v1/synth/${target.id}/cancel`)};
        form.innerHTML = '<input name="confirm" value="yes">';
        document.body.append(form);
        form.submit();
      })()`);
      await answered;
      const reply = JSON.parse(await page.evaluate<string>('document.body.innerText')) as { error?: { code: string } };
      expect(reply.error?.code).toBe('API_CROSS_ORIGIN');

      // Nothing was created or cancelled.
      const { jobs } = await rest<{ jobs: Job[] }>('/v1/synth');
      expect(jobs.map((j) => [j.id, j.state])).toEqual([[target.id, 'running']]);

      // The dashboard's own button sends JSON with its CSRF token, and cancels.
      await page.navigate(`${url}/dashboard`);
      const shown = await page.evaluate<{ status: string; badge: string }>(`(async () => {
        const button = document.querySelector('button[data-cancel="/v1/synth/${target.id}/cancel"]');
        const status = document.getElementById('action-status');
        const changed = new Promise((resolve) => new MutationObserver(resolve).observe(status, { childList: true, characterData: true, subtree: true }));
        const row = button.closest('tr');
        button.click();
        await changed;
        return { status: status.textContent, badge: row.querySelector('.state').textContent };
      })()`);
      expect(shown).toEqual({ status: `Cancelled ${target.id}.`, badge: 'cancelled' });
      expect((await rest<{ job: Job }>(`/v1/synth/${target.id}`)).job.state).toBe('cancelled');
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('sends the login redirect only to a path of its own origin', async () => {
    for (const next of ['/\t/evil.com', '//evil.com', '/\\evil.com', 'https://evil.com']) {
      const dom = await dumpDom(loginUrl(next));
      expect(dom, next).toContain('<h1>Runs</h1>');
    }
  }, 90_000);
});
