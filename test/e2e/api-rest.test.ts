import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, createRunStore, type EmbeddedRedis, type RunStore, startEmbeddedRedis } from '@differad/queue';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './run-cli.js';

const TOKEN = 'e2e-api-token-0123456789abcdef';
let dir: string;
let redis: EmbeddedRedis;
let client: Redis;
let store: RunStore;
let api: ChildProcess;
let apiExited: Promise<number | null>;
let url: string;

/** Starts the real `differad api` and resolves with its URL once it prints it. */
function startApiProcess(env: Record<string, string>): Promise<string> {
  api = spawn(
    process.execPath,
    [CLI_BIN, 'api', '--port', '0', '--data-root', 'data', '--runs-dir', 'runs', '--state-dir', 'state', '--heartbeat-ms', '300'],
    {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  api.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  apiExited = new Promise((resolve) => api.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    api.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = out.match(/differad API listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]!);
    });
    void apiExited.then((code) => reject(new Error(`differad api exited (${code}) before listening: ${stderr}`)));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-api-'));
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'outside'), { recursive: true });
  await writeFile(join(dir, 'outside', 'secret.jsonl'), '{}\n');
  await symlink(join(dir, 'outside'), join(dir, 'data', 'escape'));
  await symlink(join(dir, 'outside', 'secret.jsonl'), join(dir, 'data', 'linked.jsonl'));
  const example = await runCli(['example', '--out', join(dir, 'data', 'ex'), '--pairs', '12', '--seed', '3']);
  expect(example.code).toBe(0);
  redis = await startEmbeddedRedis();
  client = await connectRedis(redis.url, 'producer');
  store = createRunStore(client);
  url = await startApiProcess({ DIFFERAD_REDIS_URL: redis.url, DIFFERAD_API_TOKEN: TOKEN });
}, 60_000);

afterAll(async () => {
  if (api && api.exitCode === null) {
    api.kill('SIGTERM');
    expect(await apiExited).toBe(0);
  }
  await client?.quit();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

function call(
  path: string,
  options: { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const token = options.token === undefined ? TOKEN : options.token;
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const method = options.method ?? (body === undefined ? 'GET' : 'POST');
  return fetch(`${url}${path}`, {
    method,
    // A state-changing request is always JSON, a bodyless cancel included.
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(method === 'GET' ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(20_000),
  });
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string; fields: { field: string }[] }> {
  const body = (await res.json()) as { error: { code: string; message: string; details: { fields?: { field: string }[] } } };
  return { status: res.status, code: body.error.code, message: body.error.message, fields: body.error.details.fields ?? [] };
}

/** Server-sent events of a response, one at a time; comments come as `{ comment }`. */
async function* readEvents(res: Response): AsyncGenerator<{ event?: string; data?: string; id?: string; comment?: string }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) fields.comment = line.slice(1).trim();
        else if (line.includes(':')) fields[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trim();
      }
      yield fields;
    }
  }
}

/** Polls `check` (a REST read) until it returns a value, at most `tries` times. */
async function waitFor<T>(check: () => Promise<T | null>, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met in time');
}

const trainBody = (id: string, steps: number, train = 'ex/manifest.jsonl') => ({
  config: { run: { id, steps }, data: { train }, grpo: { groupSize: 2, pairsPerStep: 2 }, policy: { kind: 'cpu', servers: 1 } },
});

describe('differad api: auth and errors', () => {
  it('answers /health without a token and nothing else: no token or a wrong one is 401', async () => {
    expect(await (await call('/health', { token: null })).json()).toEqual({ status: 'ok', redis: 'ok' });
    for (const path of ['/v1/runs', '/v1/evals', '/openapi.json', '/no/such/route']) {
      const res = await call(path, { token: null });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect((await errorOf(res)).code).toBe('API_UNAUTHORIZED');
    }
    expect((await call('/v1/runs', { token: 'wrong-token-0123456789' })).status).toBe(401);
    expect((await call('/v1/runs', { token: null, headers: { cookie: 'differad_token=wrong' } })).status).toBe(401);
    expect((await call('/v1/runs', { method: 'POST', token: null, body: trainBody('x', 1) })).status).toBe(401);
  });

  it('names the wrong field of a malformed body with 400, and refuses non-JSON, wrong methods and unknown routes', async () => {
    const cases: [string, unknown, string][] = [
      ['/v1/runs', { config: { data: {} } }, 'config.data.train'],
      ['/v1/runs', { config: { data: { train: 'ex/manifest.jsonl' }, grpo: { groupSize: 'eight' } } }, 'config.grpo.groupSize'],
      [
        '/v1/runs',
        { config: { data: { train: 'ex/manifest.jsonl' }, policy: { kind: 'endpoints', endpoints: ['ftp://x'], model: 'm' } } },
        'config.policy.endpoints.0',
      ],
      ['/v1/runs', {}, 'config'],
      ['/v1/evals', { limit: 3 }, 'manifest'],
      ['/v1/synth', { normals: 'ex/images', count: -1 }, 'count'],
    ];
    for (const [path, body, field] of cases) {
      const error = await errorOf(await call(path, { body }));
      expect(error.status, field).toBe(400);
      expect(error.code).toBe('API_REQUEST_INVALID');
      expect(error.fields.map((f) => f.field)).toContain(field);
      expect(error.message).toContain(field);
    }
    expect((await errorOf(await call('/v1/runs', { body: '{"config": ' }))).code).toBe('API_REQUEST_INVALID');
    expect((await call('/v1/runs', { body: '{}', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    const wrongMethod = await call('/v1/runs', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
    expect((await errorOf(await call('/v1/runs/no-such-run'))).status).toBe(404);
    expect((await call('/v1/nothing')).status).toBe(404);
  });

  it('refuses paths outside the data roots with 400, through .., absolute paths and symlinks alike', async () => {
    const bodies: [string, unknown, string][] = [
      ['/v1/runs', trainBody('p1', 1, '../outside/secret.jsonl'), 'config.data.train'],
      ['/v1/runs', trainBody('p2', 1, join(dir, 'outside', 'secret.jsonl')), 'config.data.train'],
      ['/v1/runs', trainBody('p3', 1, 'escape/secret.jsonl'), 'config.data.train'],
      ['/v1/runs', trainBody('p4', 1, 'linked.jsonl'), 'config.data.train'],
      ['/v1/runs', { config: { ...trainBody('p5', 1).config, run: { id: 'p5', runsDir: '/tmp' } } }, 'config.run.runsDir'],
      ['/v1/evals', { manifest: 'linked.jsonl' }, 'manifest'],
      ['/v1/synth', { normals: 'ex/images', out: 'escape/synth' }, 'out'],
    ];
    for (const [path, body, field] of bodies) {
      const error = await errorOf(await call(path, { body }));
      expect(error.status, field).toBe(400);
      expect(error.code).toBe('API_PATH_OUTSIDE_DATA_ROOTS');
      expect(error.fields).toEqual([{ field, message: 'outside the data roots' }]);
    }
    expect(await store.listRuns()).not.toEqual(expect.arrayContaining(['p1', 'p2', 'p3', 'p4', 'p5']));
  });

  it('answers 413 to a body over the limit', async () => {
    const huge = JSON.stringify({ config: { data: { train: 'x'.repeat(2 * 1024 * 1024) } } });
    const error = await errorOf(await call('/v1/runs', { body: huge }));
    expect(error).toMatchObject({ status: 413, code: 'API_BODY_TOO_LARGE' });
  });

  it('serves an OpenAPI document generated from the schemas, and a docs page', async () => {
    const doc = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/runs',
        '/v1/runs/{id}',
        '/v1/runs/{id}/cancel',
        '/v1/runs/{id}/metrics',
        '/v1/runs/{id}/metrics/stream',
        '/v1/evals',
        '/v1/evals/{id}/report',
        '/v1/synth',
        '/health',
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['SubmitRunBody', 'SubmitEvalBody', 'SubmitSynthBody', 'ApiErrorBody', 'MetricsResponse']),
    );
    const docs = await (await call('/docs')).text();
    expect(docs).toContain('POST /v1/runs');
    expect(docs).toContain('id="schema-SubmitRunBody"');
  });
});

describe('differad api: runs and metrics', () => {
  it('serves metric rows written to the run store as JSON and as a live event stream that ends with the run', async () => {
    await store.createRun('seeded', { data: { train: 'x' } });
    await store.setState('seeded', 'running');
    await store.beat('seeded', { pid: process.pid, host: 'test' }, 3_600_000);
    const row = (step: number) => ({
      step,
      weightVersion: step + 1,
      at: 1_800_000_000_000 + step,
      values: { reward_mean: step / 10, frac_degenerate: 0.5 },
    });
    await store.appendMetrics('seeded', row(0));
    await store.appendMetrics('seeded', row(1));
    expect(await (await call('/v1/runs/seeded/metrics')).json()).toEqual({ runId: 'seeded', metrics: [row(0), row(1)] });
    expect(await (await call('/v1/runs/seeded/metrics?fromStep=1&count=1')).json()).toEqual({ runId: 'seeded', metrics: [row(1)] });
    expect((await errorOf(await call('/v1/runs/seeded/metrics?fromStep=-1'))).fields.map((f) => f.field)).toEqual(['fromStep']);

    const res = await call('/v1/runs/seeded/metrics/stream');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const seen: string[] = [];
    let heartbeats = 0;
    for await (const event of readEvents(res)) {
      if (event.comment?.startsWith('heartbeat')) {
        heartbeats++;
        if (heartbeats === 1) await store.setState('seeded', 'completed');
        continue;
      }
      if (event.event === undefined) continue;
      seen.push(`${event.event}:${event.id ?? ''}`);
      if (event.event === 'metrics') expect(JSON.parse(event.data!)).toEqual(row(Number(event.id)));
      // A row written while the stream is open arrives on it.
      if (event.event === 'metrics' && event.id === '1') await store.appendMetrics('seeded', row(2));
      expect(seen.length).toBeLessThan(20);
    }
    // The first `state` says running; the second, completed, comes right before `end`.
    expect(seen).toEqual(['metrics:0', 'metrics:1', 'state:', 'metrics:2', 'state:', 'end:']);
    expect(heartbeats).toBeGreaterThanOrEqual(1);

    // Reconnecting after event 1 resumes with step 2.
    const resumed: string[] = [];
    for await (const event of readEvents(await call('/v1/runs/seeded/metrics/stream', { headers: { 'last-event-id': '1' } }))) {
      if (event.event) resumed.push(`${event.event}:${event.id ?? ''}`);
    }
    expect(resumed).toEqual(['metrics:2', 'state:', 'end:']);
  });

  it('trains a submitted CPU run to completion (differad train as a child process) and serves its metrics', async () => {
    const res = await call('/v1/runs', { body: trainBody('e2e-train', 3) });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ run: { runId: 'e2e-train' } });
    expect(((await (await call('/v1/runs')).json()) as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toContain('e2e-train');

    const steps: number[] = [];
    let end: { state: string } | null = null;
    for await (const event of readEvents(await call('/v1/runs/e2e-train/metrics/stream'))) {
      if (event.event === 'metrics') steps.push(Number(event.id));
      if (event.event === 'end') end = JSON.parse(event.data!) as { state: string };
    }
    expect(end).toEqual({ runId: 'e2e-train', state: 'completed' });
    expect(steps).toEqual([0, 1, 2]);
    const { metrics } = (await (await call('/v1/runs/e2e-train/metrics')).json()) as {
      metrics: { values: Record<string, number | null> }[];
    };
    expect(metrics).toHaveLength(3);
    for (const m of metrics) expect(typeof m.values.reward_mean).toBe('number');
    expect(await (await call('/v1/runs/e2e-train')).json()).toMatchObject({
      run: { state: 'completed', lastCompletedStep: 2 },
      config: { run: { steps: 3 }, data: { train: join(dir, 'data', 'ex', 'manifest.jsonl') } },
    });
    expect((await call('/v1/runs', { body: trainBody('e2e-train', 3) })).status).toBe(409);
  }, 60_000);

  it("answers 422 with the trainer's own error when differad train refuses the data before recording the run", async () => {
    await writeFile(join(dir, 'data', 'broken.jsonl'), 'not json\n');
    const error = await errorOf(await call('/v1/runs', { body: trainBody('e2e-broken', 2, 'broken.jsonl') }));
    expect(error).toMatchObject({ status: 422, code: 'API_JOB_START_FAILED' });
    expect(error.message).toContain('MANIFEST_INVALID');
    expect(error.message).toContain('broken.jsonl:1');
    expect((await call('/v1/runs/e2e-broken')).status).toBe(404);
  }, 60_000);

  it('cancels a long run it started; cancelling it again is 409', async () => {
    expect((await call('/v1/runs', { body: trainBody('e2e-cancel', 100_000) })).status).toBe(201);
    const cancelled = await call('/v1/runs/e2e-cancel/cancel', { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({
      run: { runId: 'e2e-cancel', state: 'cancelled', message: 'cancelled through the API' },
    });
    expect((await errorOf(await call('/v1/runs/e2e-cancel/cancel', { method: 'POST' }))).status).toBe(409);
  }, 60_000);
});

describe('differad api: synthesis and evaluation jobs', () => {
  it('runs differad synth for a job and records its completion', async () => {
    const res = await call('/v1/synth', { body: { normals: 'ex/images', count: 4, size: 64, foreground: 'none', seed: 5 } });
    expect(res.status).toBe(201);
    const { job } = (await res.json()) as { job: { id: string; outDir: string; state: string } };
    expect(job).toMatchObject({ state: 'running', outDir: join(dir, 'data', 'synth', job.id) });
    const done = await waitFor(async () => {
      const { job: now } = (await (await call(`/v1/synth/${job.id}`)).json()) as { job: { state: string; message?: string } };
      return now.state === 'running' ? null : now;
    });
    expect(done).toMatchObject({ state: 'completed' });
    expect((await runCli(['data', 'validate', join(job.outDir, 'manifest.jsonl')])).code).toBe(0);
  }, 60_000);

  it('runs differad eval for a job and serves its report (sandboxed) and metrics', async () => {
    const res = await call('/v1/evals', { body: { manifest: 'ex/manifest.jsonl', limit: 3 } });
    expect(res.status).toBe(201);
    const { job } = (await res.json()) as { job: { id: string } };
    expect(((await (await call('/v1/evals')).json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id)).toContain(job.id);
    const done = await waitFor(async () => {
      const { job: now } = (await (await call(`/v1/evals/${job.id}`)).json()) as { job: { state: string } };
      return now.state === 'running' ? null : now;
    });
    expect(done).toMatchObject({ state: 'completed' });
    const report = await call(`/v1/evals/${job.id}/report`);
    expect(report.headers.get('content-security-policy')).toMatch(/^sandbox;/);
    expect(await report.text()).toContain('<html');
    expect(await (await call(`/v1/evals/${job.id}/metrics`)).json()).toMatchObject({ overall: { n: 3 } });
  }, 60_000);
});
