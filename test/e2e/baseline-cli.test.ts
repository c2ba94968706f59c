import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Box, createRng } from '@differad/core';
import { writeRawImage } from '@differad/images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawBoard, paintBox } from './board-fixtures.js';
import { runCli } from './run-cli.js';

const SIZE = 120;
const PAIRS = 20;

let dir: string;
let manifest: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-baseline-'));
  const rng = createRng('baseline-e2e');
  const lines: string[] = [];
  for (let k = 0; k < PAIRS; k++) {
    const id = `s${k}`;
    // Every third pair is normal; the others hold one painted defect of 14–30 pixels a side.
    const normal = k % 3 === 0;
    const [w, h] = [rng.int(14, 30), rng.int(14, 30)];
    const [x, y] = [rng.int(0, SIZE - w), rng.int(0, SIZE - h)];
    const box: Box | null = normal ? null : [x, y, x + w, y + h];
    const reference = drawBoard(SIZE, k % 5, `${id}/ref`);
    const target = drawBoard(SIZE, k % 5, `${id}/tgt`);
    await writeRawImage(join(dir, `${id}-ref.png`), reference);
    await writeRawImage(join(dir, `${id}-tgt.png`), box === null ? target : paintBox(target, box));
    lines.push(
      JSON.stringify({
        id,
        class: normal ? 'normal' : 'spot',
        reference: `${id}-ref.png`,
        target: `${id}-tgt.png`,
        width: SIZE,
        height: SIZE,
        box,
      }),
    );
  }
  manifest = join(dir, 'manifest.jsonl');
  await writeFile(manifest, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('differad baseline', () => {
  it('calibrates a threshold on 30% of the pairs, finds the defects in the rest and reports the threshold', async () => {
    const out = join(dir, 'bl');
    const result = await runCli(['baseline', '--manifest', manifest, '--out', out, '--seed', '3']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/maps: 20\/20 in [\d.]+ s/);
    expect(result.stderr).toMatch(/calibrate: \d+\/\d+ in [\d.]+ s .* · threshold 0\.\d{4}/);
    expect(result.stdout).toMatch(/6 calibration \+ 14 evaluation samples · seed 3/);
    expect(result.stdout).toMatch(/threshold 0\.\d{4} \(best of \d+ · calibration F1@0\.3/);
    expect(result.stdout).toContain('class mean');

    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.overall.n).toBe(14);
    expect(metrics.overall.acc).toBeGreaterThanOrEqual(0.9);
    expect(metrics.overall.f1).toBeGreaterThanOrEqual(0.9);
    expect(metrics.baseline).toMatchObject({ seed: 3, calibration_n: 6, evaluation_n: 14, calibration_share: 0.3, blur: 1.5 });
    expect(metrics.baseline.threshold).toBeGreaterThan(0);
    expect(metrics.baseline.calibration_f1).toBeGreaterThan(0.5);
    expect(metrics.baseline.calibration_ids).toHaveLength(6);
    expect(metrics.frame).toBe('pixels');

    // scores.jsonl holds the evaluation part only, one `differad score --out` line each, and no calibration id.
    const scores = (await readFile(join(out, 'scores.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(scores).toHaveLength(14);
    expect(scores.some((s) => metrics.baseline.calibration_ids.includes(s.id))).toBe(false);
    expect(Object.keys(scores[0]).sort()).toEqual(
      [
        'box',
        'box_iou',
        'box_pixels',
        'class',
        'format_reward',
        'frame',
        'gt_box',
        'id',
        'iou',
        'kind',
        'loc_reward',
        'reason',
        'reward',
        'subset',
        'valid',
      ].sort(),
    );

    // The same seed gives the same split and threshold; --json prints metrics.json.
    const again = await runCli(['baseline', '--manifest', manifest, '--out', join(dir, 'bl2'), '--seed', '3', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).baseline).toEqual(metrics.baseline);
  });

  it('says what is wrong: bad manifest or missing image exit 2, a bad option exits 1', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"id":"a","class":"c","reference":"r.png","target":"t.png","width":10,"height":10,"box":[5,5,2,2]}\n');
    const badManifest = await runCli(['baseline', '--manifest', bad, '--out', join(dir, 'x')]);
    expect(badManifest.code).toBe(2);
    expect(badManifest.stderr).toContain('MANIFEST_INVALID');
    expect(badManifest.stderr).toContain('bad.jsonl:1: box');

    const gone = join(dir, 'gone.jsonl');
    const line = (id: string, target: string) =>
      JSON.stringify({ id, class: 'c', reference: 's0-ref.png', target, width: SIZE, height: SIZE, box: null });
    await writeFile(gone, `${line('a', 's0-tgt.png')}\n${line('b', 'nowhere.png')}\n`);
    const missing = await runCli(['baseline', '--manifest', gone, '--out', join(dir, 'x')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('gone.jsonl:2: target: no such file');

    const share = await runCli(['baseline', '--manifest', manifest, '--out', join(dir, 'x'), '--calibration', '1.5']);
    expect(share.code).toBe(1);
    expect(share.stderr).toContain('--calibration needs a share in (0, 1)');
    await expect(readFile(join(dir, 'x', 'metrics.json'))).rejects.toThrow();
  });
});
