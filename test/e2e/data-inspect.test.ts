import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

async function png(path: string, width: number, height: number, grey: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } })
    .png()
    .toFile(path);
}

const record = (id: string, cls: string, box: number[] | null, extra: Record<string, unknown> = {}) => ({
  id,
  class: cls,
  subset: 's',
  reference: `img/${id}-r.png`,
  target: `img/${id}-t.png`,
  width: 80,
  height: 60,
  box,
  ...extra,
});

let dir: string;
let manifest: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'differad-e2e-inspect-'));
  const records = [record('a', 'screw', [10, 10, 30, 20]), record('b', 'screw', null), record('c', 'nut', [0, 0, 40, 30])];
  await Promise.all(records.flatMap((r) => [png(join(dir, r.reference), 80, 60, 90), png(join(dir, r.target), 80, 60, 160)]));
  manifest = join(dir, 'manifest.jsonl');
  writeFileSync(manifest, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
});

describe('differad data validate / stats / preview', () => {
  it('validates a good manifest and lists missing files and wrong sizes by line', async () => {
    const good = await runCli(['data', 'validate', manifest]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('3 record(s) valid');
    const bad = join(dir, 'bad.jsonl');
    await png(join(dir, 'img/x-t.png'), 81, 60, 10);
    // A truncated target: its header still reads, only a full decode (--decode) finds it.
    const whole = readFileSync(join(dir, 'img/a-t.png'));
    writeFileSync(join(dir, 'img/z-t.png'), whole.subarray(0, whole.length - 40));
    const lines = [
      record('a', 'screw', null),
      record('x', 'screw', null, { reference: 'img/missing.png' }),
      { ...record('y', 'nut', null), version: 9 },
      record('z', 'nut', null, { reference: 'img/a-r.png' }),
    ];
    writeFileSync(bad, lines.map((r) => JSON.stringify(r)).join('\n'));
    const failed = await runCli(['data', 'validate', bad, '--decode']);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('error [MANIFEST_INVALID]');
    expect(failed.stderr).toContain(`${bad}:2: width: the target image is 81×60, the record says 80×60`);
    expect(failed.stderr).toMatch(/bad\.jsonl:2: reference: .*img\/missing\.png does not exist/);
    expect(failed.stderr).toContain(`${bad}:3: version: manifest version 9 is not supported`);
    expect(failed.stderr).toMatch(/bad\.jsonl:4: target: .*img\/z-t\.png: corrupt or truncated/);
  });

  it('prints statistics as JSON', async () => {
    const result = await runCli(['data', 'stats', manifest, '--json']);
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout);
    expect(stats).toMatchObject({
      n: 3,
      anomalous: 2,
      normal: 1,
      classes: { screw: { n: 2, normal: 1 }, nut: { n: 1 } },
      subsets: { s: { n: 3 } },
      image_sizes: { '80×60': 3 },
    });
    expect(stats.boxes).toMatchObject({ n: 2, width: { min: 20, max: 40 }, size_buckets: { small: 0, medium: 1, large: 1 } });
  });

  it('writes contact sheets with the pairs', async () => {
    const out = join(dir, 'preview');
    const result = await runCli(['data', 'preview', manifest, '--out', out, '--per-sheet', '2', '--size', '64', '--columns', '2']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('wrote 2 sheet(s) of 3 pair(s)');
    const sheet = await sharp(join(out, 'sheet-001.png')).metadata();
    // Two tiles of 2·64+4 pixels side by side plus gaps.
    expect(sheet.width).toBeGreaterThanOrEqual(2 * 132);
  });
});
