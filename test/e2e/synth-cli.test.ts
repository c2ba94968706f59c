import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './run-cli.js';

let dir: string;
let normals: string;
let mixed: string;

/** A light image with a dark elliptical object in the middle, `width`×`height`. */
async function writeObjectImage(path: string, size: number, shade: number, height = size): Promise<void> {
  const width = size;
  const data = Buffer.alloc(width * height * 3, 225);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (((x - width / 2) / (width * 0.36)) ** 2 + ((y - height / 2) / (height * 0.36)) ** 2 <= 1)
        data.set([shade, 110, 80], (y * width + x) * 3);
    }
  }
  await sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(path);
}

interface Manifested {
  reference: string;
  target: string;
  mask?: string;
  box: number[] | null;
  synth: { normal: string };
}

function readManifest(root: string): Manifested[] {
  return readFileSync(join(root, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Manifested);
}

/** Sizes of mixed normals and where each one's pixels land in a 256×256 `contain` output (scaled by 256 / long side, centred). */
const MIXED = [
  { name: 'wide-100x80.png', width: 100, height: 80, content: [0, 25, 256, 230] },
  { name: 'tall-300x500.png', width: 300, height: 500, content: [51, 0, 205, 256] },
  { name: 'square-256.png', width: 256, height: 256, content: [0, 0, 256, 256] },
  { name: 'thin-40x900.png', width: 40, height: 900, content: [122, 0, 133, 256] },
] as const;

/** Every entry under `root`, hidden ones too: file bytes, or "folder"; null when `root` does not exist. */
function treeOf(root: string): Map<string, string> | null {
  if (!existsSync(root)) return null;
  const tree = new Map<string, string>();
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    tree.set(path.slice(root.length + 1), e.isDirectory() ? 'folder' : readFileSync(path).toString('base64'));
  }
  return tree;
}

/** Pair files written so far: a run writes into a hidden staging folder inside --out until it ends. */
function stagedPairs(out: string): number {
  const staging = existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('.differad-staging-')) : [];
  return staging.reduce((n, s) => n + (existsSync(join(out, s, 'pairs')) ? readdirSync(join(out, s, 'pairs')).length : 0), 0);
}

function filesOf(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const sub of ['pairs', 'references']) {
    for (const f of readdirSync(join(root, sub)).sort()) out.set(`${sub}/${f}`, readFileSync(join(root, sub, f)).toString('base64'));
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'differad-synth-'));
  normals = join(dir, 'normals');
  mkdirSync(normals);
  for (let i = 0; i < 3; i++) await writeObjectImage(join(normals, `good-${i}.png`), 160, 50 + 20 * i);
  mixed = join(dir, 'mixed');
  mkdirSync(mixed);
  for (const [i, m] of MIXED.entries()) await writeObjectImage(join(mixed, m.name), m.width, 60 + 30 * i, m.height);
});

describe('differad synth', () => {
  it('writes byte-identical outputs for the same seed whatever --jobs is', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const common = ['--normals', normals, '--count', '16', '--size', '128', '--seed', '42', '--jsonl'];
    const ra = await runCli(['synth', ...common, '--out', a, '--jobs', '1', '--preview', '3']);
    const rb = await runCli(['synth', ...common, '--out', b, '--jobs', '2']);
    expect(ra.stderr).not.toContain('error');
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    expect(readFileSync(join(a, 'manifest.jsonl'), 'utf8')).toBe(readFileSync(join(b, 'manifest.jsonl'), 'utf8'));
    expect(filesOf(a)).toEqual(filesOf(b));
    // The contact sheet: 3 rows of reference | target | mask | box.
    const preview = await sharp(join(a, 'preview.png')).metadata();
    expect(preview.width).toBeGreaterThan(4 * 150);
    expect(preview.height).toBeGreaterThan(3 * 150);

    const records = readFileSync(join(a, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(16);
    for (const r of records) {
      expect(existsSync(join(a, r.reference))).toBe(true);
      expect(existsSync(join(a, r.target))).toBe(true);
      expect(r).toMatchObject({ width: 128, height: 128, subset: 'synthetic', class: 'normals' });
      if (r.box !== null) {
        // The box is the tight box of the mask written beside the target.
        const { data, info } = await sharp(join(a, r.mask)).raw().toBuffer({ resolveWithObject: true });
        let x1 = Infinity,
          y1 = Infinity,
          x2 = -1,
          y2 = -1;
        for (let y = 0; y < info.height; y++) {
          for (let x = 0; x < info.width; x++) {
            if (data[(y * info.width + x) * info.channels]! >= 128) {
              x1 = Math.min(x1, x);
              y1 = Math.min(y1, y);
              x2 = Math.max(x2, x);
              y2 = Math.max(y2, y);
            }
          }
        }
        expect(r.box).toEqual([x1, y1, x2 + 1, y2 + 1]);
      }
    }
    const research = readFileSync(join(a, 'research.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(research[0].images).toEqual([records[0].reference, records[0].target]);
    expect(research[0].seg_gt_qwen2vl).toHaveLength(4);
  });

  it('refuses bad input with an error naming the problem', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r1 = await runCli(['synth', '--normals', empty, '--out', join(dir, 'o1')]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`normals folder ${empty} holds no images`);

    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'bad.png'), Buffer.from('this is not a png at all'));
    const r2 = await runCli(['synth', '--normals', broken, '--out', join(dir, 'o2'), '--size', '64']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(join(broken, 'bad.png'));

    // Any size is resized, but an image with a 1-pixel side holds nothing to synthesize from.
    const dot = join(dir, 'dot');
    mkdirSync(dot);
    await writeObjectImage(join(dot, 'dot.png'), 1, 50);
    const r3 = await runCli(['synth', '--normals', dot, '--out', join(dir, 'o3'), '--size', '64']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(`${join(dot, 'dot.png')} is 1×1`);

    const r4 = await runCli(['synth', '--normals', normals, '--out', join(dir, 'o4'), '--p-normal', '1.5']);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toContain('--p-normal needs a probability');

    // A misspelled choice is wrong usage (exit 1), and the message lists what is allowed.
    const r5 = await runCli(['synth', '--normals', normals, '--out', join(dir, 'o5'), '--foreground', 'otsuu']);
    expect(r5.code).toBe(1);
    expect(r5.stderr).toContain('otsuu');
    expect(r5.stderr).toMatch(/otsu, none, masks:DIR/);
    expect(existsSync(join(dir, 'o5'))).toBe(false);

    const r6 = await runCli(['synth', '--normals', normals, '--out', join(dir, 'o6'), '--fit', 'stretch']);
    expect(r6.code).toBe(1);
    expect(r6.stderr).toMatch(/cover, contain/);
  });

  it('leaves --out as it was after an error: absent, or the previous run untouched under --force', async () => {
    // A corrupt normal after good ones fails while references are written; a corrupt texture fails after
    // some pairs were made (seed 5 makes 5 pairs with the good texture first).
    const withBad = join(dir, 'with-bad');
    mkdirSync(withBad);
    for (let i = 0; i < 3; i++) await writeObjectImage(join(withBad, `good-${i}.png`), 160, 50 + 20 * i);
    writeFileSync(join(withBad, 'z-bad.png'), Buffer.from('this is not a png at all'));
    const textures = join(dir, 'textures-with-bad');
    mkdirSync(textures);
    await writeObjectImage(join(textures, 'a-good.png'), 64, 30);
    writeFileSync(join(textures, 'b-bad.png'), Buffer.from('not a png either'));
    const badNormal = (out: string, ...more: string[]) =>
      runCli(['synth', '--normals', withBad, '--out', out, '--size', '64', '--count', '8', ...more]);
    const badTexture = (out: string, ...more: string[]) =>
      runCli([
        'synth',
        '--normals',
        normals,
        '--textures',
        textures,
        '--out',
        out,
        '--size',
        '64',
        '--count',
        '20',
        '--seed',
        '5',
        ...more,
      ]);

    const fresh = join(dir, 'failed-fresh', 'nested');
    for (const run of [badNormal, badTexture]) {
      const r = await run(fresh);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/z-bad\.png|b-bad\.png/);
      expect(existsSync(join(dir, 'failed-fresh'))).toBe(false);
    }

    const previous = join(dir, 'failed-previous');
    const first = await runCli(['synth', '--normals', normals, '--out', previous, '--size', '96', '--count', '6', '--jsonl']);
    expect(first.code).toBe(0);
    const before = treeOf(previous);
    const bad = await badNormal(previous, '--force');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(join(withBad, 'z-bad.png'));
    expect(treeOf(previous)).toEqual(before);
    const late = await badTexture(previous, '--force', '--jobs', '2');
    expect(late.code).toBe(2);
    expect(late.stderr).toContain(join(textures, 'b-bad.png'));
    expect(treeOf(previous)).toEqual(before);
  });

  it('takes normals of mixed sizes: every pair is size×size in both fit modes, and upscaled images are counted', async () => {
    // cover scales the short side to 256 (100×80 and 40×900 grow); contain scales the long side (only 100×80 grows).
    for (const [fit, upscaled] of [
      ['cover', 2],
      ['contain', 1],
    ] as const) {
      const out = join(dir, `mixed-${fit}`);
      const r = await runCli(['synth', '--normals', mixed, '--out', out, '--count', '24', '--size', '256', '--seed', '5', '--fit', fit]);
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`from 4 images \\(${upscaled} upscaled, fit ${fit}\\)`));
      expect(r.stderr).toContain('references: 4/4');
      const images = [
        ...readdirSync(join(out, 'references')).map((f) => `references/${f}`),
        ...readdirSync(join(out, 'pairs')).map((f) => `pairs/${f}`),
      ];
      expect(images.filter((f) => f.startsWith('references/'))).toHaveLength(4);
      for (const f of images) expect(await sharp(join(out, f)).metadata(), f).toMatchObject({ width: 256, height: 256 });
      const records = readManifest(out);
      expect(records).toHaveLength(24);
      expect(new Set(records.map((rec) => basename(rec.synth.normal)))).toEqual(new Set(MIXED.map((m) => m.name)));
    }
  });

  it('with --fit contain never puts an anomaly on the padding, whatever the foreground mode', async () => {
    for (const foreground of ['otsu', 'none']) {
      const out = join(dir, `contain-${foreground}`);
      const r = await runCli([
        'synth',
        '--normals',
        mixed,
        '--out',
        out,
        '--count',
        '32',
        '--size',
        '256',
        '--seed',
        '9',
        '--fit',
        'contain',
        '--foreground',
        foreground,
        '--p-normal',
        '0',
      ]);
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      const records = readManifest(out);
      // The thin and wide normals, with the most padding, are among the anomalous pairs.
      expect(new Set(records.map((rec) => basename(rec.synth.normal)))).toEqual(new Set(MIXED.map((m) => m.name)));
      for (const rec of records) {
        const [x1, y1, x2, y2] = MIXED.find((m) => m.name === basename(rec.synth.normal))!.content;
        const { data, info } = await sharp(join(out, rec.mask!)).raw().toBuffer({ resolveWithObject: true });
        const onPadding: string[] = [];
        let anomaly = 0;
        for (let y = 0; y < info.height; y++) {
          for (let x = 0; x < info.width; x++) {
            if (data[(y * info.width + x) * info.channels]! < 128) continue;
            anomaly++;
            if (x < x1 || x >= x2 || y < y1 || y >= y2) onPadding.push(`${x},${y}`);
          }
        }
        expect(anomaly).toBeGreaterThan(0);
        expect(onPadding, `${rec.mask} of ${basename(rec.synth.normal)}, content [${x1}, ${y1}, ${x2}, ${y2}]`).toEqual([]);
      }
    }
  });

  it('keeps a valid manifest of the finished pairs when interrupted', async () => {
    const out = join(dir, 'interrupted');
    const child = spawn(process.execPath, [CLI_BIN, 'synth', '--normals', normals, '--out', out, '--count', '100000', '--size', '128'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        // References are ready and pairs are being made: interrupt.
        if (stderr.includes('references: 3/3 in') && stagedPairs(out) > 4) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted:');
    // The finished pairs were moved out of the staging folder into place.
    expect(readdirSync(out).sort()).toEqual(['manifest.jsonl', 'pairs', 'references']);
    const lines = readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(100000);
    for (const line of lines) {
      const r = JSON.parse(line);
      expect(existsSync(join(out, r.target))).toBe(true);
    }
  });
});
