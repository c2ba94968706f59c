import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createStagedOutput, STAGING_PREFIX, withStagedOutput } from './staged-output.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-staged-'));
});

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Every file under `root` (hidden ones too) with its text; folders end in `/`. */
function treeOf(root: string): Record<string, string> {
  const tree: Record<string, string> = {};
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const rel = join(e.parentPath, e.name).slice(root.length + 1);
    if (e.isDirectory()) tree[`${rel}/`] = '';
    else tree[rel] = readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return tree;
}

describe('createStagedOutput', () => {
  it('commit merges the staged folders into OUT, replaces same-named files and keeps the rest', async () => {
    const out = join(dir, 'out');
    write(join(out, 'manifest.jsonl'), 'old manifest');
    write(join(out, 'images/same.png'), 'old same');
    write(join(out, 'images/old.png'), 'old only');
    write(join(out, 'notes.txt'), 'mine');
    const staged = await createStagedOutput(out);
    expect(dirname(staged.dir)).toBe(out);
    write(join(staged.dir, 'images/same.png'), 'new same');
    write(join(staged.dir, 'images/new.png'), 'new only');
    write(join(staged.dir, 'pairs/a.png'), 'new folder');
    write(join(staged.dir, 'manifest.jsonl'), 'new manifest');
    await staged.commit();
    expect(treeOf(out)).toEqual({
      'manifest.jsonl': 'new manifest',
      'notes.txt': 'mine',
      'images/': '',
      'images/same.png': 'new same',
      'images/old.png': 'old only',
      'images/new.png': 'new only',
      'pairs/': '',
      'pairs/a.png': 'new folder',
    });
  });

  it('a commit that cannot finish puts back what it moved, the old manifest included', async () => {
    const out = join(dir, 'out');
    write(join(out, 'manifest.jsonl'), 'old manifest');
    write(join(out, 'a.png'), 'old a');
    write(join(out, 'pairs'), 'a file where the run writes a folder');
    const before = treeOf(out);
    const staged = await createStagedOutput(out);
    write(join(staged.dir, 'a.png'), 'new a');
    write(join(staged.dir, 'pairs/p.png'), 'new pair');
    write(join(staged.dir, 'manifest.jsonl'), 'new manifest');
    await expect(staged.commit()).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: `${join(out, 'pairs')} is a file where this run writes a folder`,
    });
    expect(treeOf(out)).toEqual(before);
  });

  it('discard removes OUT and the parents the run created, and leaves a folder that was there as it was', async () => {
    const made = join(dir, 'a', 'b', 'out');
    const staged = await createStagedOutput(made);
    write(join(staged.dir, 'pairs/p.png'), 'partial');
    await staged.discard();
    expect(readdirSync(dir)).toEqual([]);

    const kept = join(dir, 'kept');
    write(join(kept, 'manifest.jsonl'), 'old manifest');
    const again = await createStagedOutput(kept);
    write(join(again.dir, 'manifest.jsonl'), 'partial');
    await again.discard();
    expect(treeOf(kept)).toEqual({ 'manifest.jsonl': 'old manifest' });
  });

  it('removes the staging folder a killed run left behind, and not one of a running process', async () => {
    const out = join(dir, 'out');
    const ended = spawnSync(process.execPath, ['-e', '']).pid;
    const abandoned = join(out, `${STAGING_PREFIX}${ended}-0badc0de`);
    const live = join(out, `${STAGING_PREFIX}${process.pid}-0000cafe`);
    write(join(abandoned, 'manifest.jsonl'), 'half of a killed run');
    write(join(live, 'manifest.jsonl'), 'another run in this process');
    const result = await withStagedOutput(out, async (staging) => {
      write(join(staging, 'manifest.jsonl'), 'new manifest');
      return 'done';
    });
    expect(result).toBe('done');
    expect(existsSync(abandoned)).toBe(false);
    expect(treeOf(out)).toEqual({
      'manifest.jsonl': 'new manifest',
      [`${STAGING_PREFIX}${process.pid}-0000cafe/`]: '',
      [`${STAGING_PREFIX}${process.pid}-0000cafe/manifest.jsonl`]: 'another run in this process',
    });
  });

  it('withStagedOutput leaves OUT as it was when the run throws', async () => {
    const out = join(dir, 'out');
    write(join(out, 'manifest.jsonl'), 'old manifest');
    await expect(
      withStagedOutput(out, async (staging) => {
        write(join(staging, 'manifest.jsonl'), 'partial');
        throw new Error('bad item');
      }),
    ).rejects.toThrow('bad item');
    expect(treeOf(out)).toEqual({ 'manifest.jsonl': 'old manifest' });
  });
});
