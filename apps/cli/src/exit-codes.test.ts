import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePortOption } from './cli-io.js';
import { runCaptured } from './testing/capture-io.js';

let dir: string;
let manifest: string;
let predictions: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-exit-codes-'));
  manifest = join(dir, 'manifest.jsonl');
  predictions = join(dir, 'predictions.jsonl');
  writeFileSync(
    manifest,
    `${JSON.stringify({ id: 'a', class: 'spot', reference: 'r.png', target: 't.png', width: 100, height: 100, box: [10, 10, 40, 40] })}\n`,
  );
  writeFileSync(predictions, `${JSON.stringify({ id: 'a', box: [12, 10, 40, 42] })}\n`);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) => runCaptured(args, { env, cwd: dir });

describe('exit codes: 1 wrong usage, 2 unusable input', () => {
  it('a configuration value out of range is wrong usage from a flag (1), unusable input from a file or the environment (2)', async () => {
    const score = ['score', '--manifest', manifest, '--predictions', predictions];
    expect((await run(score)).code).toBe(0);

    const flag = await run([...score, '--tau', '2']);
    expect(flag.code).toBe(1);
    expect(flag.err).toContain('reward.tau');
    expect(flag.err).toContain('from a command-line flag');

    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'reward:\n  tau: 2\n');
    const file = await run([...score, '--config', config]);
    expect(file.code).toBe(2);
    expect(file.err).toContain(`reward.tau: Too big`);
    expect(file.err).toContain(config);

    const env = await run(score, { DIFFERAD_REWARD_TAU: '2' });
    expect(env.code).toBe(2);
    expect(env.err).toContain('DIFFERAD_REWARD_TAU');

    // A flag cannot make up for a bad file value: the file is still unusable.
    expect((await run([...score, '--config', config, '--alpha', '3'])).code).toBe(2);
  });

  it('rejects a port outside 0–65535 as wrong usage naming the flag, on every server command', async () => {
    for (const command of [['api'], ['policy', 'serve'], ['fake-vllm'], ['trainer', 'serve', '--cpu']]) {
      const r = await run([...command, '--port', '70000']);
      expect(r.code, command.join(' ')).toBe(1);
      expect(r.err, command.join(' ')).toContain('--port needs an integer 0–65535, got "70000"');
    }
  });

  it('reports a flag value found wrong only once the command runs as wrong usage', async () => {
    const synth = await run(['synth', '--normals', 'normals', '--out', 'synth', '--max-rotation', '90']);
    expect(synth.code).toBe(1);
    expect(synth.err).toContain('--max-rotation must be within [0, 45] degrees');

    expect((await run(['example', '--out', 'example', '--pairs', '2'])).code).toBe(0);
    const evalRun = await run([
      'eval',
      '--manifest',
      'example/manifest.jsonl',
      '--out',
      'eval',
      '--endpoint',
      'ftp://gpu1',
      '--model',
      'm',
    ]);
    expect(evalRun.code).toBe(1);
    expect(evalRun.err).toContain('--endpoint: "ftp://gpu1" is not an http(s) URL');
  });

  it('rejects a fake-vllm setting out of range as wrong usage naming the flag', async () => {
    const r = await run(['fake-vllm', '--port', '0', '--tokens-per-second', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--tokens-per-second');
  });
});

describe('parsePortOption', () => {
  it('accepts 0–65535 and names the flag otherwise', () => {
    const parse = parsePortOption('--metrics-port');
    expect(parse('0')).toBe(0);
    expect(parse('65535')).toBe(65_535);
    for (const bad of ['65536', '-1', '80.5', '', 'http']) expect(() => parse(bad), bad).toThrow(InvalidArgumentError);
    expect(() => parse('70000')).toThrow('--metrics-port needs an integer 0–65535, got "70000"');
  });
});
