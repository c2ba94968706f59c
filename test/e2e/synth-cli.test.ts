import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './run-cli.js';

let dir: string;
let normals: string;

async function writeObjectImage(path: string, size: number, shade: number): Promise<void> {
  const data = Buffer.alloc(size * size * 3, 225);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if ((x - size / 2) ** 2 + (y - size / 2) ** 2 <= (size * 0.36) ** 2) data.set([shade, 110, 80], (y * size + x) * 3);
    }
  }
  await sharp(data, { raw: { width: size, height: size, channels: 3 } }).png().toFile(path);
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

    const records = readFileSync(join(a, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(16);
    for (const r of records) {
      expect(existsSync(join(a, r.reference))).toBe(true);
      expect(existsSync(join(a, r.target))).toBe(true);
      expect(r).toMatchObject({ width: 128, height: 128, subset: 'synthetic', class: 'normals' });
      if (r.box !== null) {
        // The box is the tight box of the mask written beside the target.
        const { data, info } = await sharp(join(a, r.mask)).raw().toBuffer({ resolveWithObject: true });
        let x1 = Infinity, y1 = Infinity, x2 = -1, y2 = -1;
        for (let y = 0; y < info.height; y++) {
          for (let x = 0; x < info.width; x++) {
            if (data[(y * info.width + x) * info.channels]! >= 128) {
              x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x); y2 = Math.max(y2, y);
            }
          }
        }
        expect(r.box).toEqual([x1, y1, x2 + 1, y2 + 1]);
      }
    }
    const research = readFileSync(join(a, 'research.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
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

    const r3 = await runCli(['synth', '--normals', normals, '--out', join(dir, 'o3'), '--size', '512']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('smaller than the synthesis size 512');
    expect(r3.stderr).toMatch(/good-\d\.png is 160×160/);

    const r4 = await runCli(['synth', '--normals', normals, '--out', join(dir, 'o4'), '--p-normal', '1.5']);
    expect(r4.code).toBe(1);
    expect(r4.stderr).toContain('--p-normal needs a probability');

    const r5 = await runCli(['synth', '--normals', normals, '--out', join(dir, 'o5'), '--foreground', 'cloud']);
    expect(r5.code).toBe(2);
    expect(r5.stderr).toContain('--foreground must be otsu, none or masks:DIR');
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
        if (stderr.includes('references: 3/3 in') && readdirSync(join(out, 'pairs')).length > 4) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted:');
    const lines = readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(100000);
    for (const line of lines) {
      const r = JSON.parse(line);
      expect(existsSync(join(out, r.target))).toBe(true);
    }
  });
});
