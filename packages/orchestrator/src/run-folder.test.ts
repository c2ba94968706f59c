import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateRunPolicy } from './run-folder.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-run-folder-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cpuRun = TrainConfigSchema.parse({ data: { train: 't.jsonl' } });
const weights = () => join(dir, 'trainer', 'weights');
const rows = (...versions: number[]) => versions.map((v, step) => JSON.stringify({ step, reward_mean: 1, weight_version: v })).join('\n');

describe('locateRunPolicy', () => {
  it('is the weight file of the last completed step, not the newest file: steps replayed away after a rewind do not count', async () => {
    await mkdir(weights(), { recursive: true });
    for (const v of [1, 2, 3, 4]) await writeFile(join(weights(), `policy-v${v}.json`), '{}');
    // Steps 2 and 3 (v3, v4) were rewound to the checkpoint of step 1; their lines left metrics.jsonl.
    await writeFile(join(dir, 'metrics.jsonl'), `${rows(1, 2)}\n{"step":2,"rew`);
    expect(await locateRunPolicy(dir, cpuRun)).toEqual({ kind: 'cpu', path: join(weights(), 'policy-v2.json'), weightVersion: 2, step: 1 });
  });

  it('a run without a completed step, or whose weight file is gone, has no policy', async () => {
    expect(await locateRunPolicy(dir, cpuRun)).toMatchObject({
      kind: 'untrained',
      reason: expect.stringContaining('no step has completed'),
    });
    await writeFile(join(dir, 'metrics.jsonl'), `${rows(1)}\n`);
    expect(await locateRunPolicy(dir, cpuRun)).toMatchObject({ kind: 'untrained', reason: expect.stringContaining('policy-v1.json') });
  });

  it('a run trained by a trainer at a URL keeps its weights there', async () => {
    const gpu = TrainConfigSchema.parse({
      data: { train: 't.jsonl' },
      policy: { kind: 'endpoints', endpoints: ['http://g:8000'], model: 'm' },
      trainer: { kind: 'url', url: 'http://g:9000' },
    });
    expect(await locateRunPolicy(dir, gpu)).toEqual({ kind: 'external', trainerUrl: 'http://g:9000' });
  });
});
