import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const MANIFEST = [
  // 100×100 images so norm1000 = pixels × 10.
  { id: 'a1', class: 'screw', subset: 'object', reference: 'r/a1.png', target: 't/a1.png', width: 100, height: 100, box: [10, 10, 20, 20] },
  { id: 'a2', class: 'screw', subset: 'object', reference: 'r/a2.png', target: 't/a2.png', width: 100, height: 100, box: [10, 10, 20, 20] },
  { id: 'n1', class: 'screw', subset: 'object', reference: 'r/n1.png', target: 't/n1.png', width: 100, height: 100, box: null },
  { id: 'b1', class: 'wood', subset: 'texture', reference: 'r/b1.png', target: 't/b1.png', width: 100, height: 100, box: [50, 50, 70, 70] },
  { id: 'b2', class: 'wood', subset: 'texture', reference: 'r/b2.png', target: 't/b2.png', width: 100, height: 100, box: null },
];

const jsonl = (rows: readonly unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

let dir: string;
let manifest: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-score-'));
  manifest = join(dir, 'manifest.jsonl');
  writeFileSync(manifest, jsonl(MANIFEST));
});

function writePredictions(name: string, rows: readonly unknown[]): string {
  const file = join(dir, name);
  writeFileSync(file, jsonl(rows));
  return file;
}

describe('differad score', () => {
  it('computes the docs/method.md §8 metrics and per-sample rewards', async () => {
    const predictions = writePredictions('good.jsonl', [
      // exact hit: IoU 1
      { id: 'a1', completion: '<think>stain</think><answer>(100,100),(200,200)</answer>' },
      // shifted by half: IoU 1/7 < 0.3 → FP and FN
      { id: 'a2', completion: '<think>x</think><answer>(150,150),(250,250)</answer>' },
      // normal answered with a box → FP, u 0
      { id: 'n1', completion: '<think>x</think><answer>(10,10),(50,50)</answer>' },
      // pixel box: IoU 1
      { id: 'b1', box: [50, 50, 70, 70] },
      // normal answered empty → u 1
      { id: 'b2', completion: '<think>fine</think><answer>(0,0),(0,0)</answer>' },
    ]);
    const out = join(dir, 'per-sample.jsonl');
    const result = await runCli(['score', '--manifest', manifest, '--predictions', predictions, '--json', '--out', out]);
    expect(result.stderr).not.toContain('warning');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.tau).toBe(0.3);
    // u = [1, 1/7, 0, 1, 1]; TP 2, FP 2, FN 1.
    expect(summary.overall.n).toBe(5);
    expect(summary.overall.acc).toBeCloseTo(3 / 5, 9);
    expect(summary.overall.mIoU).toBeCloseTo((3 + 1 / 7) / 5, 9);
    expect(summary.overall.mIoU_ano).toBeCloseTo((2 + 1 / 7) / 3, 9);
    expect(summary.overall.mIoU_nor).toBeCloseTo(0.5, 9);
    expect(summary.overall.f1).toBeCloseTo(4 / (4 + 2 + 1), 9);
    expect(Object.keys(summary.classes)).toEqual(['screw', 'wood']);
    expect(summary.classes.wood.acc).toBe(1);
    expect(summary.class_mean.acc).toBeCloseTo((1 / 3 + 1) / 2, 9);
    expect(summary.subsets.texture.n).toBe(2);

    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['a1', 'a2', 'n1', 'b1', 'b2']);
    expect(lines[0]).toMatchObject({ valid: true, box: [100, 100, 200, 200], format_reward: 1, loc_reward: 1, iou: 1 });
    // The docs/method.md §4 reference value for this pair.
    expect(lines[1].loc_reward).toBeCloseTo(0.322857, 6);
    expect(lines[2]).toMatchObject({ loc_reward: 0, iou: 0 });
    expect(lines[3]).toMatchObject({ format_reward: null, frame: 'pixels', iou: 1 });
    expect(lines[4]).toMatchObject({ box: null, kind: 'empty', loc_reward: 1, iou: 1 });
  });

  it('prints a readable table without --json', async () => {
    const predictions = writePredictions('table.jsonl', [{ id: 'a1', box: [10, 10, 20, 20] }]);
    const result = await runCli(['score', '--manifest', manifest, '--predictions', predictions]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/overall \(samples\)\s+5\s+/);
    expect(result.stdout).toContain('class screw');
    expect(result.stdout).toContain('4 missing');
  });

  it('uses the paper or released reward as asked', async () => {
    const predictions = writePredictions('variant.jsonl', [
      { id: 'a2', completion: '<think>x</think><answer>(150,150),(250,250)</answer>' },
    ]);
    const out = join(dir, 'variant-out.jsonl');
    const result = await runCli([
      'score',
      '--manifest',
      manifest,
      '--predictions',
      predictions,
      '--reward',
      'dclr-released',
      '--out',
      out,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const line = readFileSync(out, 'utf8')
      .split('\n')
      .map((l) => (l ? JSON.parse(l) : null))
      .find((l) => l?.id === 'a2');
    expect(line.loc_reward).toBeCloseTo(0.742857, 6);
    expect(JSON.parse(result.stdout).reward.variant).toBe('dclr-released');
  });

  it('reports bad prediction lines with file:line and scores the ids they miss as invalid', async () => {
    const predictions = writePredictions('messy.jsonl', [
      { id: 'a1', completion: '<think>x</think><answer>(100,100),(200,200)</answer>' },
      '{"id": "a2", "completion": ',
      { id: 'a1', completion: 'second answer for a1' },
      { id: 'zz', completion: 'unknown' },
      { id: 'n1', completion: 42 },
      { id: 'b1', text: 'no completion field' },
      '',
      { id: 'b2', completion: 'I refuse to answer' },
    ]);
    const result = await runCli(['score', '--manifest', manifest, '--predictions', predictions, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`${predictions}:2: not valid JSON`);
    expect(result.stderr).toContain(`${predictions}:3: id: duplicate id "a1"`);
    expect(result.stderr).toContain(`${predictions}:4: id: id "zz" is not in the manifest`);
    expect(result.stderr).toMatch(new RegExp(`${predictions}:5: completion: `));
    expect(result.stderr).toContain(`${predictions}:6: needs "completion"`);
    expect(result.stderr).toContain('scored as invalid: a2, n1, b1');
    const summary = JSON.parse(result.stdout);
    expect(summary.input).toMatchObject({
      prediction_lines: 7,
      used: 2,
      malformed: 3,
      duplicates: 1,
      unknown_ids: 1,
      missing: 3,
      invalid: 1,
    });
    expect(summary.overall.acc).toBeCloseTo(1 / 5, 9);
  });

  it('refuses a manifest with bad lines, naming each file:line and field, and leaves --out untouched', async () => {
    const bad = join(dir, 'bad-manifest.jsonl');
    writeFileSync(
      bad,
      jsonl([
        MANIFEST[0],
        { ...MANIFEST[1], box: [30, 30, 20, 40] },
        { ...MANIFEST[2], width: undefined },
        'not json',
        { ...MANIFEST[3], id: 'a1' },
        { ...MANIFEST[4], box: [0, 0, 150, 20] },
      ]),
    );
    const out = join(dir, 'keep.jsonl');
    writeFileSync(out, 'previous results\n');
    const predictions = writePredictions('p-any.jsonl', [{ id: 'a1', box: null }]);
    const result = await runCli(['score', '--manifest', bad, '--predictions', predictions, '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MANIFEST_INVALID');
    expect(result.stderr).toContain(`${bad}:2: box: box needs x2 > x1`);
    expect(result.stderr).toContain(`${bad}:3: width:`);
    expect(result.stderr).toContain(`${bad}:4: not valid JSON`);
    expect(result.stderr).toContain(`${bad}:5: id: duplicate id "a1" (first on line 1)`);
    expect(result.stderr).toContain(`${bad}:6: box: box [0,0,150,20] extends past the 100×100 image`);
    expect(readFileSync(out, 'utf8')).toBe('previous results\n');
  });

  it('fails clearly on unusable input: missing file, no usable prediction, bad config, unknown family', async () => {
    const missing = await runCli(['score', '--manifest', join(dir, 'nope.jsonl'), '--predictions', manifest]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read ${join(dir, 'nope.jsonl')}`);

    const junk = writePredictions('junk.jsonl', ['garbage', { id: 'x', completion: '' }]);
    const none = await runCli(['score', '--manifest', manifest, '--predictions', junk]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('PREDICTIONS_UNUSABLE');

    const p = writePredictions('p1.jsonl', [{ id: 'a1', box: null }]);
    const config = await runCli(['score', '--manifest', manifest, '--predictions', p], { env: { DIFFERAD_REWARD_ALPHA: '2' } });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('reward.alpha');
    expect(config.stderr).toContain('DIFFERAD_REWARD_ALPHA');

    const family = await runCli(['score', '--manifest', manifest, '--predictions', p, '--family', 'gpt5']);
    expect(family.code).toBe(1);
    expect(family.stderr).toContain("'gpt5' is invalid");
    expect(family.stderr).toContain('qwen2.5-vl');

    const tau = await runCli(['score', '--manifest', manifest, '--predictions', p, '--tau', 'high']);
    expect(tau.code).toBe(1);
    expect(tau.stderr).toContain('--tau needs a number');
  });
});

describe('differad help and example', () => {
  it('documents every command with an example', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('score');
    expect(top.stdout).toContain('example');
    for (const command of ['score', 'example']) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Example/);
    }
  });

  it('writes a reproducible example that scores end to end', async () => {
    const a = join(dir, 'ex-a');
    const b = join(dir, 'ex-b');
    expect((await runCli(['example', '--out', a, '--pairs', '9', '--seed', '7'])).code).toBe(0);
    expect((await runCli(['example', '--out', b, '--pairs', '9', '--seed', '7'])).code).toBe(0);
    expect(readFileSync(join(a, 'manifest.jsonl'), 'utf8')).toBe(readFileSync(join(b, 'manifest.jsonl'), 'utf8'));
    expect(readFileSync(join(a, 'predictions.jsonl'), 'utf8')).toBe(readFileSync(join(b, 'predictions.jsonl'), 'utf8'));
    expect(
      readFileSync(join(a, 'images', 'tile-0000-target.png'))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');

    const again = await runCli(['example', '--out', a, '--pairs', '9']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');

    const scored = await runCli([
      'score',
      '--manifest',
      join(a, 'manifest.jsonl'),
      '--predictions',
      join(a, 'predictions.jsonl'),
      '--json',
    ]);
    expect(scored.code).toBe(0);
    expect(JSON.parse(scored.stdout).overall.n).toBe(9);
  });
});
