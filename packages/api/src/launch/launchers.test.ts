import { describe, expect, it } from 'vitest';
import { SubmitEvalBodySchema, SubmitSynthBodySchema } from '../schemas/job-schemas.js';
import { toEvalArgs, toSynthArgs } from './launchers.js';

describe('CLI arguments of jobs', () => {
  it('runs differad eval with the built-in policy or with endpoints', () => {
    const cpu = SubmitEvalBodySchema.parse({ manifest: '/d/m.jsonl', limit: 5 });
    expect(toEvalArgs(cpu, '/r/evals/e1')).toEqual([
      'eval',
      '--manifest',
      '/d/m.jsonl',
      '--out',
      '/r/evals/e1',
      '--policy',
      'cpu',
      '--family',
      'differad',
      '--frame',
      'norm1000',
      '--concurrency',
      'auto',
      '--seed',
      '0',
      '--limit',
      '5',
    ]);
    const vllm = SubmitEvalBodySchema.parse({
      manifest: '/d/m.jsonl',
      policy: { kind: 'endpoints', endpoints: ['http://a:8000', 'http://b:8000'], model: 'qwen' },
      concurrency: 16,
    });
    expect(toEvalArgs(vllm, '/o')).toEqual(
      expect.arrayContaining(['--endpoint', 'http://a:8000,http://b:8000', '--model', 'qwen', '--concurrency', '16']),
    );
  });

  it('runs differad synth with every option, foreground masks replacing the mode', () => {
    const spec = SubmitSynthBodySchema.parse({
      normals: '/d/good',
      count: 10,
      pNormal: 0.5,
      size: 128,
      seed: 7,
      foregroundMasks: '/d/fg',
      jsonl: true,
      class: 'screw',
    });
    const args = toSynthArgs(spec, '/d/synth/s1');
    expect(args.slice(0, 5)).toEqual(['synth', '--normals', '/d/good', '--out', '/d/synth/s1']);
    expect(args).toEqual(
      expect.arrayContaining([
        '--count',
        '10',
        '--p-normal',
        '0.5',
        '--size',
        '128',
        '--seed',
        '7',
        '--foreground',
        'masks:/d/fg',
        '--class',
        'screw',
        '--jsonl',
      ]),
    );
  });

  it('refuses option values the CLI would refuse, naming the field', () => {
    const bad = SubmitSynthBodySchema.safeParse({ normals: 'x', pNormal: 2, size: 10, class: '../x' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['class', 'pNormal', 'size']);
  });
});
