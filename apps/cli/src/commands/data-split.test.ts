import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRawImage } from '@differad/images';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../testing/capture-io.js';

type Line = Record<string, unknown>;
const readLines = (path: string): Line[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

let dir: string;
let manifest: string;

/** 8 boards × 3 windows (ids b<k>-w<j>) sharing source.target per board, with real 8×8 images under data/images. */
beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'differad-cli-split-')));
  mkdirSync(join(dir, 'data/images'), { recursive: true });
  const png = await encodeRawImage({ data: new Uint8Array(64).fill(90), width: 8, height: 8, channels: 1 }, 'png');
  const lines: string[] = [];
  for (let b = 0; b < 8; b++) {
    for (let w = 0; w < 3; w++) {
      const id = `b${b}-w${w}`;
      writeFileSync(join(dir, `data/images/${id}-r.png`), png);
      writeFileSync(join(dir, `data/images/${id}-t.png`), png);
      const normal = w === 2;
      lines.push(
        JSON.stringify({
          id,
          class: normal ? 'normal' : b % 2 === 0 ? 'open' : 'short',
          reference: `images/${id}-r.png`,
          target: `images/${id}-t.png`,
          width: 8,
          height: 8,
          box: normal ? null : [1, 1, 4, 4],
          source: { reference: `../raw/${b}_temp.jpg`, target: `../raw/${b}_test.jpg`, crop: [0, 0, 8, 8] },
          board: `board-${b % 4}`,
        }),
      );
    }
  }
  manifest = join(dir, 'data/manifest.jsonl');
  writeFileSync(manifest, `${lines.join('\n')}\n`);
});

const board = (l: Line) => String(l.id).split('-')[0];
const split = (out: string, ...extra: string[]) => runCaptured(['data', 'split', manifest, '--out', join(dir, out), ...extra]);

describe('differad data split', () => {
  it('keeps the windows of one source image together, rewrites paths for OUT, and data validate accepts the parts', async () => {
    const r = await split('s1', '--heldout', '0.25', '--test', '3');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const parts = ['train', 'heldout', 'test'].map((p) => readLines(join(dir, 's1', `${p}.jsonl`)));
    const boardsOf = parts.map((p) => new Set(p.map(board)));
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) expect([...boardsOf[i]!].filter((b) => boardsOf[j]!.has(b))).toEqual([]);
    expect(parts.map((p) => p.length)).toEqual([15, 6, 3]);
    expect(
      parts
        .flat()
        .map((l) => l.id)
        .sort(),
    ).toEqual(
      readLines(manifest)
        .map((l) => l.id)
        .sort(),
    );
    expect(parts[0]![0]).toMatchObject({
      reference: expect.stringMatching(/^\.\.\/data\/images\//),
      source: { target: expect.stringMatching(/^\.\.\/raw\//) },
    });
    expect(r.out).toContain('24 records in 8 groups (by source.target, else id), seed 1');
    expect(r.out).toMatch(/heldout\s+6 records \(asked 6\) · 4 anomalous · 2 normal · 2 groups/);
    expect(r.out).toMatch(/test\s+3 records \(asked 3\) · 2 anomalous · 1 normal · 1 groups/);
    expect(r.out).toMatch(/normal\s+5\s+0\s+5/);
    for (const p of ['train', 'heldout', 'test']) {
      const v = await runCaptured(['data', 'validate', join(dir, 's1', `${p}.jsonl`)]);
      expect(v.err, p).toBe('');
      expect(v.code, p).toBe(0);
    }
  });

  it('gives the same split for the same seed and another for another seed; --force replaces', async () => {
    await split('seed-a', '--heldout', '0.5', '--seed', '3');
    await split('seed-b', '--heldout', '0.5', '--seed', '3');
    const heldout = (out: string) => readFileSync(join(dir, out, 'heldout.jsonl'), 'utf8');
    expect(heldout('seed-a')).toBe(heldout('seed-b'));
    const others = [];
    for (const seed of ['4', '5', '6']) {
      expect((await split('seed-b', '--heldout', '0.5', '--seed', seed, '--force')).code).toBe(0);
      others.push(heldout('seed-b'));
    }
    expect(others.some((o) => o !== heldout('seed-a'))).toBe(true);
  });

  it('groups by --group-by: records of one board stay together', async () => {
    const r = await split('by-board', '--heldout', '6', '--group-by', 'board');
    expect(r.code).toBe(0);
    const held = new Set(readLines(join(dir, 'by-board/heldout.jsonl')).map((l) => l.board));
    const train = new Set(readLines(join(dir, 'by-board/train.jsonl')).map((l) => l.board));
    expect([...held].filter((b) => train.has(b))).toEqual([]);
    expect(r.out).toContain('in 4 groups (by board)');
  });

  it('exits 1 naming the flag for a bad size, and 2 for unusable input', async () => {
    for (const bad of [
      ['--heldout', '1.5'],
      ['--heldout', '0'],
      ['--heldout', '0.2', '--test', 'x'],
      ['--heldout', '25'],
    ]) {
      const r = await split('bad', ...bad);
      expect(r.code, bad.join(' ')).toBe(1);
      expect(r.err, bad.join(' ')).toContain(bad.at(-2)!);
    }
    const missing = await split('bad', '--heldout', '0.2', '--group-by', 'source.board');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`${manifest}:1: record "b0-w0" has no source.board (--group-by)`);
    const empty = await split('bad', '--heldout', '20', '--test', '4');
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('leaves train empty');
    const exists = await split('s1', '--heldout', '0.25');
    expect(exists.code).toBe(2);
    expect(exists.err).toContain('--force');
    writeFileSync(join(dir, 'empty.jsonl'), '');
    const none = await runCaptured(['data', 'split', join(dir, 'empty.jsonl'), '--out', join(dir, 'bad'), '--heldout', '0.2']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('holds no records');
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
