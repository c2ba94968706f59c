import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApi, openFakeApi } from './testing/fake-api.js';

const TOKEN = 'probe-test-token-0123456789abcdef';
let fake: FakeApi;

beforeAll(async () => {
  fake = await openFakeApi(TOKEN);
  const data = join(fake.dir, 'data');
  await mkdir(join(data, 'images'), { recursive: true });
  await writeFile(join(data, 'set', 'prompts.json'), '["find it"]');
  await symlink('loop-b', join(data, 'loop-a'));
  await symlink('loop-a', join(data, 'loop-b'));
});

afterAll(async () => {
  await fake?.close();
});

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly fields: string[];
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fake.request(path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const json = (await res.json()) as { error?: { code: string; details: { fields?: { field: string }[] } } };
  return { status: res.status, code: json.error?.code, fields: json.error?.details.fields?.map((f) => f.field) ?? [] };
}

const listJobs = async (kind: 'evals' | 'synth'): Promise<string[]> =>
  (
    (await (await fake.request(`/v1/${kind}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { jobs: { id: string }[] }
  ).jobs.map((j) => j.id);

const run = (extra: Record<string, unknown>, data: Record<string, unknown> = { train: 'set/train.jsonl' }) => ({
  config: { data, ...extra },
});
const tooLong = 'n'.repeat(300);

describe('bad input is a 400 naming the field, never a 500', () => {
  it('answers paths the file system refuses (a name too long, a symlink loop, a file where a folder must be) with 400', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/runs', run({}, { train: tooLong }), 'config.data.train'],
      ['POST', '/v1/runs', run({}, { train: 'loop-a' }), 'config.data.train'],
      ['POST', '/v1/runs', run({}, { train: 'images' }), 'config.data.train'],
      ['POST', '/v1/runs', run({ run: { runsDir: tooLong } }), 'config.run.runsDir'],
      // A relative runsDir is under the runs root: these name the data root's file absolutely.
      ['POST', '/v1/runs', run({ run: { runsDir: join(fake.dir, 'data', 'set', 'train.jsonl') } }), 'config.run.runsDir'],
      ['POST', '/v1/runs', run({ run: { runsDir: join(fake.dir, 'data', 'set', 'train.jsonl', 'runs') } }), 'config.run.runsDir'],
      ['POST', '/v1/evals', { manifest: `${tooLong}/m.jsonl` }, 'manifest'],
      ['POST', '/v1/evals', { manifest: 'loop-a/m.jsonl' }, 'manifest'],
      ['POST', '/v1/evals', { manifest: 'set/train.jsonl', prompts: 'images' }, 'prompts'],
      ['POST', '/v1/synth', { normals: 'images', out: 'set/train.jsonl' }, 'out'],
      ['POST', '/v1/synth', { normals: 'images', out: 'set/train.jsonl/synth' }, 'out'],
      ['POST', '/v1/synth', { normals: 'images', out: `${tooLong}/x` }, 'out'],
      ['POST', '/v1/synth', { normals: 'images', out: 'loop-a/x' }, 'out'],
      ['POST', '/v1/synth', { normals: 'set/train.jsonl' }, 'normals'],
      ['POST', '/v1/synth', { normals: 'images', textures: 'set/prompts.json' }, 'textures'],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await call(method, path, body);
      expect(answer.status, `${path} ${field}`).toBe(400);
      expect(answer.fields, `${path} ${JSON.stringify(body).slice(0, 80)}`).toEqual([field]);
    }
    expect(await listJobs('synth')).toEqual([]);
    expect(await listJobs('evals')).toEqual([]);
    expect((await call('POST', '/v1/evals', { manifest: 'set/train.jsonl', prompts: 'set/prompts.json' })).status).toBe(201);
  });

  it('names an unknown field by its path', async () => {
    expect(await call('POST', '/v1/synth', { normals: 'images', colour: 'red' })).toEqual({
      status: 400,
      code: 'API_REQUEST_INVALID',
      fields: ['colour'],
    });
    expect(await call('POST', '/v1/runs', run({ grpo: { groupSize: 2, temprature: 1 } }))).toEqual({
      status: 400,
      code: 'API_REQUEST_INVALID',
      fields: ['config.grpo.temprature'],
    });
    expect(await call('POST', '/v1/runs', { config: run({}).config, dryRun: true })).toEqual({
      status: 400,
      code: 'API_REQUEST_INVALID',
      fields: ['dryRun'],
    });
  });

  it('names a malformed id in the path', async () => {
    for (const path of [
      '/v1/runs/%ZZ',
      '/v1/runs/a%2Fb',
      '/v1/evals/..%2F..%2Fx',
      '/v1/synth/%E0%A4%A',
      '/v1/runs/%ZZ/metrics',
      '/dashboard/runs/%00',
    ]) {
      expect(await call('GET', path), path).toEqual({ status: 400, code: 'API_REQUEST_INVALID', fields: ['id'] });
    }
    expect(await call('POST', '/v1/runs/%ZZ/cancel', {})).toEqual({ status: 400, code: 'API_REQUEST_INVALID', fields: ['id'] });
    expect(await call('GET', '/v1/runs/well-formed-but-absent')).toMatchObject({ status: 404, code: 'API_NOT_FOUND' });
  });

  it('names a bad query parameter: unknown, repeated, empty or not a decimal integer', async () => {
    await call('POST', '/v1/runs', run({ run: { id: 'q' } }));
    const cases: [string, string][] = [
      ['/v1/runs/q/metrics?zzz=1', 'zzz'],
      ['/v1/runs?limit=5', 'limit'],
      ['/v1/runs/q/metrics?fromStep=1&fromStep=2', 'fromStep'],
      ['/v1/runs/q/metrics?fromStep=', 'fromStep'],
      ['/v1/runs/q/metrics?fromStep=0x10', 'fromStep'],
      ['/v1/runs/q/metrics?count=1e3', 'count'],
      ['/v1/runs/q/metrics?fromStep=99999999999999999999', 'fromStep'],
      ['/v1/runs/q/metrics/stream?fromStep=-1', 'fromStep'],
    ];
    for (const [path, field] of cases)
      expect(await call('GET', path), path).toEqual({ status: 400, code: 'API_REQUEST_INVALID', fields: [field] });
    expect((await call('GET', '/v1/runs/q/metrics?fromStep=0&count=10')).status).toBe(200);
  });

  it('answers a body that is not a JSON object with 400', async () => {
    for (const body of ['{"normals": ', '', 'null', '[]', '"images"', '\u00ff']) {
      expect(await call('POST', '/v1/synth', body), JSON.stringify(body)).toMatchObject({ status: 400, code: 'API_REQUEST_INVALID' });
    }
  });
});
