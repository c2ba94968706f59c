import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findClosedPort, killStarted, makeTrainData, runDifferad, type TrainData, writeTrainConfig } from './train-harness.js';

let dir: string;
let data: TrainData;
let fake: FakeVllmServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-train-errors-'));
  data = await makeTrainData(dir, { train: 4, heldOut: 2 });
}, 30_000);

afterEach(async () => {
  await fake?.close();
  fake = undefined;
  killStarted();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Nothing of a run was made: no run folder, so no metrics.jsonl and no Redis. */
async function expectNothingStarted(runsDir: string): Promise<void> {
  const entries = await readdir(runsDir).catch(() => [] as string[]);
  expect(entries).toEqual([]);
}

describe('differad train: bad configs and unreachable servers fail before any work starts', () => {
  it('names each wrong field of the YAML and its allowed values (exit 2)', async () => {
    const file = join(dir, 'bad-values.yaml');
    await writeFile(file, ['run:', '  runsDir: runs-bad-values', 'data:', `  train: ${data.train}`, 'grpo:', '  onExhausted: toss', '  groupSize: 1', 'sampling:', '  temperature: hot', ''].join('\n'));
    const result = await runDifferad(['train', '--config', file], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [CONFIG_INVALID]');
    expect(result.stderr).toMatch(/grpo\.onExhausted: .*"keep"\|"replace".*bad-values\.yaml/);
    expect(result.stderr).toMatch(/grpo\.groupSize: .*>=2/);
    expect(result.stderr).toMatch(/sampling\.temperature: .*number/);
    await expectNothingStarted(join(dir, 'runs-bad-values'));
  });

  it('names a training manifest that does not exist (exit 2)', async () => {
    const config = await writeTrainConfig(dir, 'missing-manifest.yaml', { run: { runsDir: 'runs-missing' }, data: { train: 'no-such-dir/manifest.jsonl' } });
    const result = await runDifferad(['train', '--config', config], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(dir, 'no-such-dir', 'manifest.jsonl'));
    await expectNothingStarted(join(dir, 'runs-missing'));
  });

  it('fails fast naming an inference endpoint on a closed port, and starts no step', async () => {
    const url = `http://127.0.0.1:${await findClosedPort()}`;
    const config = await writeTrainConfig(dir, 'closed-endpoint.yaml', {
      run: { id: 'closed', runsDir: 'runs-closed' },
      data: { train: data.train },
      policy: { kind: 'endpoints', endpoints: [url], model: 'any' },
      trainer: { kind: 'cpu' },
    });
    const started = Date.now();
    const result = await runDifferad(['train', '--config', config], { cwd: dir });
    expect(result.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.stderr).toContain('error [TRAIN_ENDPOINT_UNREACHABLE]');
    expect(result.stderr).toContain(url);
    expect(result.stdout).not.toMatch(/step\s+reward/);
    await expectNothingStarted(join(dir, 'runs-closed'));
  });

  it('names a trainer URL on a closed port, and an endpoint that serves another model', async () => {
    fake = await startFakeVllm({ model: 'served-model' });
    const trainerUrl = `http://127.0.0.1:${await findClosedPort()}`;
    const noTrainer = await writeTrainConfig(dir, 'closed-trainer.yaml', {
      run: { runsDir: 'runs-closed-trainer' },
      data: { train: data.train },
      policy: { kind: 'endpoints', endpoints: [fake.url], model: 'served-model' },
      trainer: { kind: 'url', url: trainerUrl },
    });
    const trainer = await runDifferad(['train', '--config', noTrainer], { cwd: dir });
    expect(trainer.code).toBe(2);
    expect(trainer.stderr).toContain('error [TRAIN_TRAINER_UNREACHABLE]');
    expect(trainer.stderr).toContain(trainerUrl);
    await expectNothingStarted(join(dir, 'runs-closed-trainer'));

    const wrongModel = await writeTrainConfig(dir, 'wrong-model.yaml', {
      run: { runsDir: 'runs-wrong-model' },
      data: { train: data.train },
      policy: { kind: 'endpoints', endpoints: [fake.url], model: 'not-served' },
      trainer: { kind: 'cpu' },
    });
    const model = await runDifferad(['train', '--config', wrongModel], { cwd: dir });
    expect(model.code).toBe(2);
    expect(model.stderr).toContain(`${fake.url} does not serve model "not-served" (it serves served-model)`);
    expect(fake.stats().received).toBe(0);
    await expectNothingStarted(join(dir, 'runs-wrong-model'));
  });

  it('asks for --config or --resume when given neither (exit 1: wrong usage)', async () => {
    const result = await runDifferad(['train'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: pass --config FILE.yaml for a new run, or --resume RUN to continue one');
    await expectNothingStarted(join(dir, 'runs'));
  });

  it('refuses flags that --resume would ignore (exit 1), naming them', async () => {
    const config = await writeTrainConfig(dir, 'resume-flags.yaml', { run: { runsDir: 'runs-resume-flags' }, data: { train: data.train } });
    const withConfig = await runDifferad(['train', '--resume', 'some-run', '--config', config], { cwd: dir });
    expect(withConfig.code).toBe(1);
    expect(withConfig.stderr).toContain('error: --config cannot be combined with --resume');
    const withRunId = await runDifferad(['train', '--resume', 'some-run', '--run-id', 'other', '--runs-dir', 'runs-resume-flags'], { cwd: dir });
    expect(withRunId.code).toBe(1);
    expect(withRunId.stderr).toContain('error: --run-id cannot be combined with --resume');
    await expectNothingStarted(join(dir, 'runs-resume-flags'));
  });

  it('refuses --resume of a run that does not exist, naming where it looked', async () => {
    const result = await runDifferad(['train', '--resume', 'ghost', '--runs-dir', 'runs-ghost'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [TRAIN_RUN_UNKNOWN]');
    expect(result.stderr).toContain(join(dir, 'runs-ghost', 'ghost', 'config.json'));
    await expect(access(join(dir, 'runs-ghost'))).rejects.toThrow();
  });
});
