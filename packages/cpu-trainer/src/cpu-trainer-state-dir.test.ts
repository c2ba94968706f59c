import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTrainerClient, type TrainerClient } from '@differad/trainer-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CpuTrainer, createCpuTrainer } from './cpu-trainer.js';

let base: string;
let stateDir: string;
let outside: string;
let trainer: CpuTrainer;
let client: TrainerClient;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'differad-cpu-trainer-links-'));
  stateDir = join(base, 'state');
  outside = join(base, 'outside');
  await mkdir(stateDir);
  await mkdir(outside);
  trainer = createCpuTrainer({ stateDir });
  client = createTrainerClient({ baseUrl: (await trainer.start()).url, timeoutMs: 10_000 });
});
afterEach(async () => {
  await client.close();
  await trainer.close();
  await rm(base, { recursive: true, force: true });
});

const refused = {
  code: 'TRAINER_REJECTED',
  details: { status: 400, error: { code: 'TRAINER_REQUEST_INVALID', details: { fields: [{ field: 'path' }] } } },
};

describe('the CPU trainer state dir', () => {
  it('writes no weight file through a symbolic link planted in its state dir', async () => {
    await symlink(outside, join(stateDir, 'weights'));
    await expect(client.sendWeights({ version: 0, backend: 'disk' })).rejects.toMatchObject(refused);
    await expect(client.sendWeights({ version: 0, backend: 'disk', path: 'nested/w.json' })).rejects.toMatchObject(refused);
    expect(await readdir(outside, { recursive: true })).toEqual([]);
    expect((await client.health()).weight_version).toBe(0);
  });

  it('loads no checkpoint through a symbolic link', async () => {
    await writeFile(join(outside, 'step-0.json'), '{}');
    await mkdir(join(stateDir, 'checkpoints'));
    await symlink(outside, join(stateDir, 'checkpoints', 'r'));
    await expect(client.loadCheckpoint({ run: 'r', step: 0 })).rejects.toMatchObject(refused);
  });
});
