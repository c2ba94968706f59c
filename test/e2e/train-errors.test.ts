import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { findClosedPort, runDifferad, useTrainFixture, writeTrainConfig } from './train-harness.js';

const fixture = useTrainFixture('differad-e2e-train-errors-', { counts: { train: 4, heldOut: 2 } });
let fake: FakeVllmServer | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Nothing of a run was made: no run folder, so no metrics.jsonl and no Redis. */
async function expectNothingStarted(runsDir: string): Promise<void> {
  const entries = await readdir(runsDir).catch(() => [] as string[]);
  expect(entries).toEqual([]);
}

describe('differad train: bad configs and unreachable servers fail before any work starts', () => {
  it('names each wrong field of the YAML and its allowed values (exit 2)', async () => {
    const file = join(fixture.dir, 'bad-values.yaml');
    await writeFile(
      file,
      [
        'run:',
        '  runsDir: runs-bad-values',
        'data:',
        `  train: ${fixture.data.train}`,
        'grpo:',
        '  onExhausted: toss',
        '  groupSize: 1',
        'sampling:',
        '  temperature: hot',
        '',
      ].join('\n'),
    );
    const result = await runDifferad(['train', '--config', file], { cwd: fixture.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [CONFIG_INVALID]');
    expect(result.stderr).toMatch(/grpo\.onExhausted: .*"keep"\|"replace".*bad-values\.yaml/);
    expect(result.stderr).toMatch(/grpo\.groupSize: .*>=2/);
    expect(result.stderr).toMatch(/sampling\.temperature: .*number/);
    await expectNothingStarted(join(fixture.dir, 'runs-bad-values'));
  });

  it('names a training manifest that does not exist (exit 2)', async () => {
    const config = await writeTrainConfig(fixture.dir, 'missing-manifest.yaml', {
      run: { runsDir: 'runs-missing' },
      data: { train: 'no-such-dir/manifest.jsonl' },
    });
    const result = await runDifferad(['train', '--config', config], { cwd: fixture.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(fixture.dir, 'no-such-dir', 'manifest.jsonl'));
    await expectNothingStarted(join(fixture.dir, 'runs-missing'));
  });

  it('fails fast naming an inference endpoint on a closed port, and starts no step', async () => {
    const url = `http://127.0.0.1:${await findClosedPort()}`;
    const config = await writeTrainConfig(fixture.dir, 'closed-endpoint.yaml', {
      run: { id: 'closed', runsDir: 'runs-closed' },
      data: { train: fixture.data.train },
      policy: { kind: 'endpoints', endpoints: [url], model: 'any' },
      trainer: { kind: 'cpu' },
    });
    const started = Date.now();
    const result = await runDifferad(['train', '--config', config], { cwd: fixture.dir });
    expect(result.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.stderr).toContain('error [TRAIN_ENDPOINT_UNREACHABLE]');
    expect(result.stderr).toContain(url);
    expect(result.stdout).not.toMatch(/step\s+reward/);
    await expectNothingStarted(join(fixture.dir, 'runs-closed'));
  });

  it('names a trainer URL on a closed port, and an endpoint that serves another model', async () => {
    fake = await startFakeVllm({ model: 'served-model' });
    const trainerUrl = `http://127.0.0.1:${await findClosedPort()}`;
    const noTrainer = await writeTrainConfig(fixture.dir, 'closed-trainer.yaml', {
      run: { runsDir: 'runs-closed-trainer' },
      data: { train: fixture.data.train },
      policy: { kind: 'endpoints', endpoints: [fake.url], model: 'served-model' },
      trainer: { kind: 'url', url: trainerUrl },
    });
    const trainer = await runDifferad(['train', '--config', noTrainer], { cwd: fixture.dir });
    expect(trainer.code).toBe(2);
    expect(trainer.stderr).toContain('error [TRAIN_TRAINER_UNREACHABLE]');
    expect(trainer.stderr).toContain(trainerUrl);
    await expectNothingStarted(join(fixture.dir, 'runs-closed-trainer'));

    const wrongModel = await writeTrainConfig(fixture.dir, 'wrong-model.yaml', {
      run: { runsDir: 'runs-wrong-model' },
      data: { train: fixture.data.train },
      policy: { kind: 'endpoints', endpoints: [fake.url], model: 'not-served' },
      trainer: { kind: 'cpu' },
    });
    const model = await runDifferad(['train', '--config', wrongModel], { cwd: fixture.dir });
    expect(model.code).toBe(2);
    expect(model.stderr).toContain(`${fake.url} does not serve model "not-served" (it serves served-model)`);
    expect(fake.stats().received).toBe(0);
    await expectNothingStarted(join(fixture.dir, 'runs-wrong-model'));
  });

  it('asks for --config or --resume when given neither (exit 1: wrong usage)', async () => {
    const result = await runDifferad(['train'], { cwd: fixture.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: pass --config FILE.yaml for a new run, or --resume RUN to continue one');
    await expectNothingStarted(join(fixture.dir, 'runs'));
  });

  it('refuses flags that --resume would ignore (exit 1), naming them', async () => {
    const config = await writeTrainConfig(fixture.dir, 'resume-flags.yaml', {
      run: { runsDir: 'runs-resume-flags' },
      data: { train: fixture.data.train },
    });
    const withConfig = await runDifferad(['train', '--resume', 'some-run', '--config', config], { cwd: fixture.dir });
    expect(withConfig.code).toBe(1);
    expect(withConfig.stderr).toContain('error: --config cannot be combined with --resume');
    const withRunId = await runDifferad(['train', '--resume', 'some-run', '--run-id', 'other', '--runs-dir', 'runs-resume-flags'], {
      cwd: fixture.dir,
    });
    expect(withRunId.code).toBe(1);
    expect(withRunId.stderr).toContain('error: --run-id cannot be combined with --resume');
    await expectNothingStarted(join(fixture.dir, 'runs-resume-flags'));
  });

  it('refuses --resume of a run that does not exist, naming where it looked', async () => {
    const result = await runDifferad(['train', '--resume', 'ghost', '--runs-dir', 'runs-ghost'], { cwd: fixture.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error [TRAIN_RUN_UNKNOWN]');
    expect(result.stderr).toContain(join(fixture.dir, 'runs-ghost', 'ghost', 'config.json'));
    await expect(access(join(fixture.dir, 'runs-ghost'))).rejects.toThrow();
  });
});
