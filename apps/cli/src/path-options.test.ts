import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CPU_POLICY } from '@differad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePath } from './cli-io.js';
import { runPolicyServe } from './commands/policy.js';
import { runTrainerServe } from './commands/trainer.js';
import { createCaptureIo, runCaptured } from './testing/capture-io.js';

// `cwd` is the command's working directory (never the test process's); `elsewhere` is where absolute paths point.
let cwd: string;
let elsewhere: string;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'differad-paths-cwd-'));
  elsewhere = mkdtempSync(join(tmpdir(), 'differad-paths-abs-'));
});
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

const run = (args: string[], at = cwd) => runCaptured(args, { cwd: at });

describe('resolvePath', () => {
  it('keeps an absolute path and starts a relative one at the working directory', () => {
    expect(resolvePath({ cwd: '/work/here' }, '/abs/path')).toBe('/abs/path');
    expect(resolvePath({ cwd: '/work/here' }, 'rel/path')).toBe('/work/here/rel/path');
    expect(resolvePath({ cwd: '/work/here' }, '../up')).toBe('/work/up');
  });
});

describe('path options of the commands', () => {
  it('example, score and baseline write to an absolute path as given, not below the working directory', async () => {
    const example = join(elsewhere, 'example');
    expect((await run(['example', '--out', example, '--pairs', '6', '--seed', '3'])).code).toBe(0);
    expect(existsSync(join(example, 'manifest.jsonl'))).toBe(true);

    const config = join(elsewhere, 'score.yaml');
    writeFileSync(config, 'reward:\n  tau: 0.5\n');
    const scores = join(elsewhere, 'scores.jsonl');
    const scored = await run([
      'score',
      '--manifest',
      join(example, 'manifest.jsonl'),
      '--predictions',
      join(example, 'predictions.jsonl'),
      '--config',
      config,
      '--out',
      scores,
      '--json',
    ]);
    expect(scored.code, scored.err).toBe(0);
    expect(JSON.parse(scored.out).tau).toBe(0.5);
    expect(existsSync(scores)).toBe(true);

    const baseline = join(elsewhere, 'baseline');
    const base = await run(['baseline', '--manifest', join(example, 'manifest.jsonl'), '--out', baseline, '--calibration', '0.5']);
    expect(base.code, base.err).toBe(0);
    expect(existsSync(join(baseline, 'metrics.json'))).toBe(true);

    expect(readdirSync(cwd)).toEqual([]);
  });

  it('score reads and writes relative paths from its working directory, not the process’s', async () => {
    expect((await run(['example', '--out', 'rel-example', '--pairs', '4'], elsewhere)).code).toBe(0);
    const scored = await run(
      ['score', '--manifest', 'rel-example/manifest.jsonl', '--predictions', 'rel-example/predictions.jsonl', '--out', 'rel-scores.jsonl'],
      elsewhere,
    );
    expect(scored.code, scored.err).toBe(0);
    expect(existsSync(join(elsewhere, 'rel-scores.jsonl'))).toBe(true);
  });

  it('trainer serve keeps its state and policy serve reads its policy at absolute paths', async () => {
    const state = join(elsewhere, 'trainer-state');
    const trainerIo = createCaptureIo({ cwd });
    await runTrainerServe({ cpu: true, host: '127.0.0.1', port: 0, stateDir: state }, trainerIo, Promise.resolve('SIGTERM'));
    expect(trainerIo.out).toContain(`state in ${state})`);

    const policyFile = join(elsewhere, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ ...DEFAULT_CPU_POLICY, version: 7 }));
    const policyIo = createCaptureIo({ cwd });
    await runPolicyServe({ host: '127.0.0.1', port: 0, slots: 1, seed: 0, policy: policyFile }, policyIo, Promise.resolve('SIGTERM'));
    expect(policyIo.out).toContain('policy v7');
    expect(readdirSync(cwd)).toEqual([]);
  });
});
