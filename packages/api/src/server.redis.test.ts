import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApi, openFakeApi } from './testing/fake-api.js';

const TOKEN = 'fake-launcher-token-0123456789';
let fake: FakeApi;
let dir: string;

beforeAll(async () => {
  fake = await openFakeApi(TOKEN);
  dir = fake.dir;
});

afterAll(async () => {
  await fake?.close();
});

const call = (method: string, path: string, body?: unknown) =>
  fake.request(path, {
    method,
    // Every state-changing request is JSON, a bodyless cancel included.
    headers: { authorization: `Bearer ${TOKEN}`, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('the REST API with an injected launcher', () => {
  it('submits a run with resolved paths, lists, gets and cancels it; a second cancel and a taken id are 409', async () => {
    const submitted = await call('POST', '/v1/runs', { config: { run: { id: 'fake-1', steps: 3 }, data: { train: 'set/train.jsonl' } } });
    expect(submitted.status).toBe(201);
    expect(submitted.headers.get('location')).toBe('/v1/runs/fake-1');
    expect(await submitted.json()).toMatchObject({ run: { runId: 'fake-1', state: 'running', lastCompletedStep: null } });
    expect(fake.started.at(-1)?.data.train).toBe(join(fake.api.dataRoots[0]!, 'set', 'train.jsonl'));
    expect(fake.started.at(-1)?.run.runsDir).toBe(join(dir, 'runs'));

    expect(((await (await call('GET', '/v1/runs')).json()) as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toContain('fake-1');
    expect(await (await call('GET', '/v1/runs/fake-1')).json()).toMatchObject({
      run: { runId: 'fake-1' },
      config: { run: { steps: 3 }, grpo: { groupSize: 8 } },
    });
    expect((await call('POST', '/v1/runs', { config: { run: { id: 'fake-1' }, data: { train: 'set/train.jsonl' } } })).status).toBe(409);

    const cancelled = await call('POST', '/v1/runs/fake-1/cancel');
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ run: { state: 'cancelled', message: 'cancelled through the API' } });
    expect(fake.running.has('run:fake-1')).toBe(false);
    const again = await call('POST', '/v1/runs/fake-1/cancel');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'API_CONFLICT' } });
  });

  it('gives a run without an id a fresh one', async () => {
    const res = await call('POST', '/v1/runs', { config: { data: { train: join(dir, 'data', 'set', 'train.jsonl') } } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { run: { runId: string } }).run.runId).toMatch(/^run-\d{8}-\d{6}-[0-9a-f]{4}$/);
  });

  it('records evaluation and synthesis jobs and cancels a running one once', async () => {
    const evalRes = await call('POST', '/v1/evals', { manifest: 'set/train.jsonl', limit: 4 });
    expect(evalRes.status).toBe(201);
    const { job } = (await evalRes.json()) as {
      job: { id: string; state: string; outDir: string; spec: { manifest: string; policy: unknown } };
    };
    expect(job).toMatchObject({
      state: 'running',
      outDir: join(dir, 'runs', 'evals', job.id),
      spec: { manifest: join(fake.api.dataRoots[0]!, 'set', 'train.jsonl'), policy: { kind: 'cpu' } },
    });
    expect((await call('GET', `/v1/evals/${job.id}/report`)).status).toBe(404);
    expect((await call('POST', `/v1/evals/${job.id}/cancel`)).status).toBe(200);
    expect(await (await call('GET', `/v1/evals/${job.id}`)).json()).toMatchObject({ job: { state: 'cancelled' } });
    expect((await call('POST', `/v1/evals/${job.id}/cancel`)).status).toBe(409);

    const synth = await call('POST', '/v1/synth', { normals: 'set', count: 3 });
    expect(synth.status).toBe(201);
    const synthJob = ((await synth.json()) as { job: { id: string; outDir: string } }).job;
    expect(synthJob.outDir).toBe(join(fake.api.dataRoots[0]!, 'synth', synthJob.id));
    expect(((await (await call('GET', '/v1/synth')).json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id)).toEqual([synthJob.id]);
  });
});
