import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ManifestRecord } from '@differad/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeImageOps, writeFakeImage } from '../testing/fake-image-ops.js';
import { loadManifest } from './load-manifest.js';
import { createManifestWriter, writeManifest } from './manifest-writer.js';
import { validateManifest } from './validate-manifest.js';

const record = (id: string, extra: Partial<ManifestRecord> = {}): ManifestRecord => ({
  id,
  class: 'c',
  reference: `r/${id}.png`,
  target: `t/${id}.png`,
  width: 100,
  height: 80,
  box: [10, 10, 20, 20],
  ...extra,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-manifest-'));
});

describe('writeManifest', () => {
  it('writes one versioned line per record and reads back', async () => {
    const path = join(dir, 'm.jsonl');
    expect(await writeManifest(path, [record('a'), record('b', { box: null })])).toBe(2);
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ version: 1, id: 'a', box: [10, 10, 20, 20] });
    const loaded = await loadManifest(path);
    expect(loaded.records.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('never leaves a partial manifest: a bad record aborts and the old file stays', async () => {
    const path = join(dir, 'm.jsonl');
    writeFileSync(path, 'OLD\n');
    await expect(writeManifest(path, [record('a'), record('b', { box: [10, 10, 200, 20] })])).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
    });
    await expect(writeManifest(path, [record('a'), record('a')])).rejects.toThrow(/duplicate id "a"/);
    expect(readFileSync(path, 'utf8')).toBe('OLD\n');
    expect(readdirSync(dir)).toEqual(['m.jsonl']);
  });

  it('shows nothing at the path before commit', async () => {
    const path = join(dir, 'sub', 'm.jsonl');
    const writer = await createManifestWriter(path);
    await writer.write(record('a'));
    expect(existsSync(path)).toBe(false);
    await writer.commit();
    expect(existsSync(path)).toBe(true);
  });
});

describe('manifest versions', () => {
  it('accepts a header line and per-line version 1, rejects other versions with file:line', async () => {
    const ok = join(dir, 'ok.jsonl');
    writeFileSync(
      ok,
      [JSON.stringify({ kind: 'differad-manifest', version: 1 }), JSON.stringify({ ...record('a'), version: 1 })].join('\n'),
    );
    expect((await loadManifest(ok)).records).toHaveLength(1);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      [
        JSON.stringify(record('a')),
        JSON.stringify({ ...record('b'), version: 2 }),
        JSON.stringify({ kind: 'differad-manifest', version: 1 }),
      ].join('\n'),
    );
    await expect(loadManifest(bad)).rejects.toThrow(
      /bad\.jsonl:2: version: manifest version 2 is not supported[\s\S]*bad\.jsonl:3: kind: a manifest header may only be the first line/,
    );
  });
});

describe('validateManifest', () => {
  it('lists schema, duplicate, missing-file and size problems by line; a smaller reference is a warning', async () => {
    writeFakeImage(join(dir, 'r/a.png'), { width: 100, height: 80 });
    writeFakeImage(join(dir, 't/a.png'), { width: 100, height: 80 });
    writeFakeImage(join(dir, 'r/b.png'), { width: 50, height: 40 });
    writeFakeImage(join(dir, 't/b.png'), { width: 100, height: 90 });
    const path = join(dir, 'm.jsonl');
    writeFileSync(
      path,
      [record('a'), record('b'), record('a'), { ...record('c'), box: [1, 2] }, 'not json', record('d')]
        .map((r) => (typeof r === 'string' ? r : JSON.stringify(r)))
        .join('\n'),
    );
    const ops = createFakeImageOps();
    const report = await validateManifest(path, { readSize: ops.readSize, jobs: 2 });
    expect(report.records).toBe(4);
    const seen = report.problems.map((p) => `${p.line}:${p.field}`);
    expect(seen).toEqual(expect.arrayContaining(['2:width', '3:id', '4:box', '5:', '6:target', '6:reference']));
    expect(report.problems.find((p) => p.line === 2)?.message).toMatch(/target image is 100×90, the record says 100×80/);
    expect(report.problems.find((p) => p.line === 6 && p.field === 'target')?.message).toMatch(/t\/d\.png does not exist/);
    expect(report.warnings.map((w) => `${w.line}:${w.field}`)).toEqual(['2:reference']);
  });

  it('checks the lines only without readSize, and calls an empty manifest a problem', async () => {
    const path = join(dir, 'm.jsonl');
    writeFileSync(path, `${JSON.stringify(record('a'))}\n`);
    expect((await validateManifest(path)).problemCount).toBe(0);
    writeFileSync(path, '\n');
    expect((await validateManifest(path)).problems[0]?.message).toMatch(/no records/);
  });
});
