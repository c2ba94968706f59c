import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createImportProgress } from '../data/import-progress.js';
import { createCaptureIo, runCaptured } from '../testing/capture-io.js';

describe('differad data (in-process)', () => {
  it('has help with an example for every data command', async () => {
    const commands = [
      [],
      ['import'],
      ['import', 'mvtec'],
      ['import', 'deeppcb'],
      ['import', 'masks'],
      ['import', 'jsonl'],
      ['export'],
      ['export', 'jsonl'],
      ['validate'],
      ['stats'],
      ['preview'],
      ['split'],
    ];
    for (const c of commands) {
      const r = await runCaptured(['data', ...c, '--help']);
      expect(r.code, c.join(' ')).toBe(0);
      expect(r.out, c.join(' ')).toMatch(/Examples?:\n {2}differad data /);
    }
  });

  it('rejects a bad flag value as wrong usage (exit 1)', async () => {
    const r = await runCaptured(['data', 'import', 'deeppcb', '--root', '.', '--out', 'x', '--split', 'train']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--split');
  });

  it('prints the statistics table per class and subset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'differad-stats-'));
    const manifest = join(dir, 'm.jsonl');
    const line = (id: string, cls: string, box: number[] | null) =>
      JSON.stringify({ id, class: cls, subset: 'test', reference: 'r.png', target: 't.png', width: 100, height: 100, box });
    writeFileSync(manifest, [line('a', 'open', [0, 0, 10, 10]), line('b', 'normal', null)].join('\n'));
    const r = await runCaptured(['data', 'stats', manifest]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 records · 1 anomalous · 1 normal (50.0 %)');
    expect(r.out).toMatch(/open\s+1\s+1\s+0\s+0\.0 %/);
    expect(r.out).toMatch(/test\s+2\s+1\s+1\s+50\.0 %/);
    expect(r.out).toMatch(/width px\s+10\.0/);
  });
});

describe('createImportProgress', () => {
  it('prints a line every N items and at the end when stderr is not a terminal', () => {
    const io = createCaptureIo({ interactive: false });
    const p = createImportProgress(io, 'deeppcb', 2);
    for (let i = 1; i <= 5; i++) p.report('pairs', i, 5);
    p.done();
    expect(io.err).toBe('deeppcb pairs: 2/5\ndeeppcb pairs: 4/5\ndeeppcb pairs: 5/5\n');
  });

  it('redraws one line on a terminal, at most every 100 ms, and ends it', () => {
    const io = createCaptureIo({ interactive: true });
    let t = 0;
    const p = createImportProgress(io, 'mvtec', 100, () => t);
    p.report('test images', 1, 3);
    t = 50;
    p.report('test images', 2, 3);
    t = 60;
    p.report('test images', 3, 3);
    p.done();
    expect(io.err).toBe('\r\x1b[2Kmvtec test images: 1/3\r\x1b[2Kmvtec test images: 3/3\n');
  });
});
