import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const SIZE = 320;
type Box = readonly [number, number, number, number];
const inBox = (b: Box, x: number, y: number) => x >= b[0] && x < b[2] && y >= b[1] && y < b[3];
/** A binarized "board": horizontal traces every 40 px. */
const board = (_x: number, y: number) => (y % 40 < 14 ? 0 : 255);

async function writeGrey(path: string, value: (x: number, y: number) => number): Promise<void> {
  const data = Buffer.alloc(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) data[y * SIZE + x] = value(x, y);
  mkdirSync(dirname(path), { recursive: true });
  // PNG bytes under a .jpg name keep the pixels exact; the importer sniffs the format.
  await sharp(data, { raw: { width: SIZE, height: SIZE, channels: 1 } })
    .png()
    .toFile(path);
}

/** A pair whose tested image differs from the template exactly inside the defect boxes (inverted pixels). */
async function writePair(root: string, id: string, defects: readonly (readonly [...Box, number])[]): Promise<string> {
  const group = `group${id.slice(0, 5)}`;
  const sub = id.slice(0, 5);
  await writeGrey(join(root, group, sub, `${id}_temp.jpg`), board);
  await writeGrey(join(root, group, sub, `${id}_test.jpg`), (x, y) =>
    defects.some((d) => inBox(d.slice(0, 4) as unknown as Box, x, y)) ? 255 - board(x, y) : board(x, y),
  );
  mkdirSync(join(root, group, `${sub}_not`), { recursive: true });
  writeFileSync(join(root, group, `${sub}_not`, `${id}.txt`), defects.map((d) => d.join(' ')).join('\n') + '\n');
  return `${group}/${sub}/${id}.jpg ${group}/${sub}_not/${id}.txt`;
}

async function greyPixels(path: string): Promise<{ data: Buffer; width: number }> {
  const { data, info } = await sharp(path).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width };
}

let dir: string;
let root: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'differad-e2e-deeppcb-'));
  root = join(dir, 'PCBData');
  const a = await writePair(root, '00041001', [
    [40, 50, 60, 66, 1],
    [200, 200, 230, 215, 5],
    [236, 200, 250, 214, 3],
  ]);
  const b = await writePair(root, '00041002', [[150, 20, 170, 50, 6]]);
  writeFileSync(join(root, 'trainval.txt'), `${a}\n`);
  writeFileSync(join(root, 'test.txt'), `${b}\n`);
});

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

const readManifest = (out: string) =>
  readFileSync(join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('differad data import deeppcb', () => {
  it('cuts windows whose box covers exactly the pixels where target and reference differ', async () => {
    const out = join(dir, 'out');
    const result = await runCli(['data', 'import', 'deeppcb', '--root', root, '--out', out, '--window', '96', '--jobs', '2']);
    expect(result.code).toBe(0);
    // The mousebite sits 6 px right of the copper, too close to the image edge for a window of its own.
    expect(result.stdout).toContain('defects 4 · defects too close 1');
    expect(result.stderr).toContain('deeppcb pairs: 2/2');
    const records = readManifest(out);
    expect(
      records
        .filter((r) => r.box !== null)
        .map((r) => r.class)
        .sort(),
    ).toEqual(['copper', 'open', 'pin-hole']);
    expect(records.filter((r) => r.box === null).map((r) => r.subset)).toEqual(['trainval', 'test']);
    for (const r of records) {
      const [ref, tgt] = await Promise.all([greyPixels(join(out, r.reference)), greyPixels(join(out, r.target))]);
      expect(ref.width).toBe(96);
      let outside = 0;
      let inside = 0;
      for (let i = 0; i < tgt.data.length; i++) {
        const differs = tgt.data[i] !== ref.data[i];
        if (r.box !== null && inBox(r.box, i % 96, Math.floor(i / 96))) inside += differs ? 1 : 0;
        else outside += differs ? 1 : 0;
      }
      // A window may see part of a neighbouring defect only when the defect boxes touch; here none do.
      expect(outside, r.id).toBe(0);
      if (r.box !== null) expect(inside, r.id).toBe((r.box[2] - r.box[0]) * (r.box[3] - r.box[1]));
    }
  });

  it('names the annotation file and line of a box outside the image; --skip-bad skips that pair', async () => {
    const note = join(root, 'group00041/00041_not/00041002.txt');
    const saved = readFileSync(note, 'utf8');
    writeFileSync(note, '150 20 170 50 6\n300 300 330 310 2\n');
    try {
      const out = join(dir, 'out-bad');
      const failed = await runCli(['data', 'import', 'deeppcb', '--root', root, '--out', out]);
      expect(failed.code).toBe(2);
      expect(failed.stderr).toContain(
        `error [DATASET_ANNOTATION_INVALID]: ${note}:2: box [300,300,330,310] lies outside the 320×320 image`,
      );
      expect(existsSync(join(out, 'manifest.jsonl'))).toBe(false);
      const skipped = await runCli(['data', 'import', 'deeppcb', '--root', root, '--out', out, '--skip-bad', '--split', 'all']);
      expect(skipped.code).toBe(0);
      expect(skipped.stdout).toMatch(/skipped 1 bad item\(s\):\n {2}\[DATASET_ANNOTATION_INVALID\] .*00041002\.txt:2/);
      expect(readManifest(out).every((r) => r.subset === 'trainval')).toBe(true);
    } finally {
      writeFileSync(note, saved);
    }
  });

  it("leaves --out as it was when the third pair's annotation is broken: absent, or the previous import untouched under --force", async () => {
    const broken = join(dir, 'PCBData-broken');
    const lines = [
      await writePair(broken, '00051001', [[40, 50, 60, 66, 1]]),
      await writePair(broken, '00051002', [[150, 20, 170, 50, 6]]),
      await writePair(broken, '00051003', [[100, 100, 120, 120, 2]]),
    ];
    writeFileSync(join(broken, 'trainval.txt'), `${lines.join('\n')}\n`);
    const note = join(broken, 'group00051/00051_not/00051003.txt');
    const importInto = (out: string, ...more: string[]) =>
      runCli(['data', 'import', 'deeppcb', '--root', broken, '--out', out, '--jobs', '1', ...more]);

    const previous = join(dir, 'out-previous');
    expect((await importInto(previous, '--window', '96')).code).toBe(0);
    const before = treeOf(previous);
    expect(readManifest(previous)).toHaveLength(6);

    writeFileSync(note, '100 100 120 120 2\n100 100 120\n');
    const fresh = join(dir, 'out-fresh', 'nested');
    const failed = await importInto(fresh, '--window', '128');
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`error [DATASET_ANNOTATION_INVALID]: ${note}:2:`);
    expect(existsSync(join(dir, 'out-fresh'))).toBe(false);

    const forced = await importInto(previous, '--window', '128', '--force');
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain(`${note}:2:`);
    expect(treeOf(previous)).toEqual(before);
  });
});
