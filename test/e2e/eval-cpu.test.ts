import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Box } from '@differad/core';
import { writeRawImage } from '@differad/images';
import { startFakeVllm } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawBoard, paintBox } from './board-fixtures.js';
import { runCli } from './run-cli.js';

const SIZE = 120;

let dir: string;
let manifest: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-eval-cpu-'));
  const lines: string[] = [];
  const boxes: (Box | null)[] = [[20, 30, 44, 52], [70, 15, 95, 35], [40, 70, 58, 100], null, [5, 5, 25, 20], null];
  for (const [k, box] of boxes.entries()) {
    const id = `s${k}`;
    const reference = drawBoard(SIZE, k * 4);
    await writeRawImage(join(dir, `${id}-ref.png`), reference);
    await writeRawImage(join(dir, `${id}-tgt.png`), box === null ? reference : paintBox(reference, box));
    lines.push(
      JSON.stringify({
        id,
        class: box === null ? 'normal' : k % 2 === 0 ? 'spot' : 'patch',
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

describe('differad eval --policy cpu', () => {
  it('evaluates the built-in policy and writes a self-contained report with the tables and pictures', async () => {
    const out = join(dir, 'cpu');
    const result = await runCli(['eval', '--manifest', manifest, '--out', out, '--policy', 'cpu']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('class mean');
    expect(result.stderr).toMatch(/eval: 6\/6 in [\d.]+ s .* · Acc@0\.3 \d+\.\d%/);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.overall.n).toBe(6);
    // Painted defects on a clean board: the detector finds them all and leaves the normal pairs empty.
    expect(metrics.overall.acc).toBe(1);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    for (const text of [
      'Overall and class mean',
      'overall (over samples)',
      'class mean (unweighted over classes)',
      'Per class (%)',
      '<th>patch</th>',
      '<th>normal</th>',
      'Worst samples',
      'Best samples',
      'Invalid answers (0)',
    ]) {
      expect(html).toContain(text);
    }
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)?.length).toBe(6);
    expect(html).not.toMatch(/<link|<script|src="http/);
  });

  it('says what is wrong before any work: usage, bad manifest, missing image, unreachable endpoint, unknown model', async () => {
    const usage = await runCli(['eval', '--manifest', manifest, '--out', join(dir, 'x')]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('pass --endpoint URL[,URL…] with --model NAME, or --policy cpu');
    const frame = await runCli(['eval', '--manifest', manifest, '--out', join(dir, 'x'), '--policy', 'cpu', '--frame', 'pixels']);
    expect(frame.code).toBe(1);

    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"id":"a","class":"c","reference":"r.png","target":"t.png","width":10,"height":10,"box":[5,5,2,2]}\n');
    const badManifest = await runCli(['eval', '--manifest', bad, '--out', join(dir, 'x'), '--policy', 'cpu']);
    expect(badManifest.code).toBe(2);
    expect(badManifest.stderr).toContain('MANIFEST_INVALID');
    expect(badManifest.stderr).toContain('bad.jsonl:1: box');

    const gone = join(dir, 'gone.jsonl');
    await writeFile(gone, '{"id":"a","class":"c","reference":"s0-ref.png","target":"nowhere.png","width":120,"height":120,"box":null}\n');
    const missing = await runCli(['eval', '--manifest', gone, '--out', join(dir, 'x'), '--policy', 'cpu']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('gone.jsonl:1: target: no such file');

    const closed = await startFakeVllm({ model: 'm' });
    const deadUrl = closed.url;
    await closed.close();
    const unreachable = await runCli(['eval', '--manifest', manifest, '--out', join(dir, 'x'), '--endpoint', deadUrl, '--model', 'm']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('EVAL_ENDPOINT_UNREACHABLE');
    expect(unreachable.stderr).toContain(deadUrl);

    const server = await startFakeVllm({ model: 'served-model' });
    try {
      const unknown = await runCli(['eval', '--manifest', manifest, '--out', join(dir, 'x'), '--endpoint', server.url, '--model', 'other']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('EVAL_MODEL_NOT_SERVED');
      expect(unknown.stderr).toContain('served-model');
      expect(server.stats().received).toBe(0);
    } finally {
      await server.close();
    }
    await expect(readFile(join(dir, 'x', 'predictions.jsonl'))).rejects.toThrow();
  });
});
