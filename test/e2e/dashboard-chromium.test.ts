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
    const child = spawn('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
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
    rollout_ms: 300 + step * 5,
    score_ms: 40,
    train_ms: 120,
    sync_ms: 30,
  },
});

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
  const queues = createCatalogQueues(client);
  await queues.queues.rollout.add('rollout', { runId: 'dash-run', step: 12, pairIndex: 0, pairId: 'pair-7', attempt: 0, seed: 1, weightVersion: 13 }, { jobId: 'dash-run.12.0.0' });
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
    expect(figure(dom, 'Fraction degenerate').match(/<circle /g)).toHaveLength(12);
    expect(figure(dom, 'Resamples').match(/<circle /g)).toHaveLength(12);
    expect(figure(dom, 'Held-out Acc@0.3').match(/<circle /g)).toHaveLength(3);
    expect(figure(dom, 'Step time').match(/<rect [^>]*data-part="(rollout|score|train|sync)"/g)).toHaveLength(48);
    await screenshot(loginUrl('/dashboard/runs/dash-run'), 'run-page.png', '1280,1500');
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
  it('lets a page on another 127.0.0.1 port neither start nor cancel a job, while the dashboard\'s own cancel button works', async () => {
    // A synthesis job long enough to still be running when the page tries to cancel it.
    const { job: target } = await rest<{ job: Job }>('/v1/synth', { normals: 'ex/images', count: 1_000_000, size: 512, foreground: 'none' });
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
