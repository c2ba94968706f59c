import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConfinedFile, writeConfinedFile } from './confined-files.js';

let base: string;
let root: string;
let outside: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'differad-confined-'));
  root = join(base, 'state');
  outside = join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const refused = { code: 'TRAINER_REQUEST_INVALID', details: { fields: [{ field: 'path' }] } };

describe('writeConfinedFile', () => {
  it('writes inside the root, making the folders', async () => {
    const path = join(root, 'checkpoints', 'r', 'step-0.json');
    expect(await writeConfinedFile(root, path, '{"ok":1}\n', 'path')).toBe(9);
    expect(await readFile(path, 'utf8')).toBe('{"ok":1}\n');
    expect(await readdir(join(root, 'checkpoints', 'r'))).toEqual(['step-0.json']);
  });

  it.each([
    ['a top folder', ['checkpoints']],
    ['a nested folder', ['checkpoints', 'r']],
  ])('refuses a symbolic link planted as %s, writing nothing outside', async (_, parts) => {
    await mkdir(join(root, ...parts.slice(0, -1)), { recursive: true });
    await symlink(outside, join(root, ...parts));
    const path = join(root, 'checkpoints', 'r', 'step-0.json');
    await expect(writeConfinedFile(root, path, 'x', 'path')).rejects.toMatchObject(refused);
    expect(await readdir(outside, { recursive: true })).toEqual([]);
  });

  it('replaces a symbolic link at the file itself instead of writing through it', async () => {
    const victim = join(outside, 'victim.json');
    await writeFile(victim, 'precious');
    await mkdir(join(root, 'weights'));
    const path = join(root, 'weights', 'policy-v1.json');
    await symlink(victim, path);
    await writeConfinedFile(root, path, 'new', 'path');
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('new');
  });

  it('accepts a root that is itself a link (the operator chose it)', async () => {
    const linked = join(base, 'linked-state');
    await symlink(root, linked);
    await writeConfinedFile(linked, join(linked, 'weights', 'w.json'), 'w', 'path');
    expect(await readFile(join(root, 'weights', 'w.json'), 'utf8')).toBe('w');
  });
});

describe('openConfinedFile', () => {
  it('reads a file inside; ENOENT when it or its folder is missing', async () => {
    await mkdir(join(root, 'checkpoints'));
    await writeFile(join(root, 'checkpoints', 'a.json'), 'a');
    const handle = await openConfinedFile(root, join(root, 'checkpoints', 'a.json'), 'path');
    expect(await handle.readFile('utf8')).toBe('a');
    await handle.close();
    await expect(openConfinedFile(root, join(root, 'checkpoints', 'b.json'), 'path')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(openConfinedFile(root, join(root, 'none', 'b.json'), 'path')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a symbolic link, at the file or at a folder above it', async () => {
    await writeFile(join(outside, 'secret.json'), 'secret');
    await mkdir(join(root, 'checkpoints'));
    await symlink(join(outside, 'secret.json'), join(root, 'checkpoints', 'file-link.json'));
    await symlink(outside, join(root, 'checkpoints', 'dir-link'));
    await expect(openConfinedFile(root, join(root, 'checkpoints', 'file-link.json'), 'path')).rejects.toMatchObject(refused);
    await expect(openConfinedFile(root, join(root, 'checkpoints', 'dir-link', 'secret.json'), 'path')).rejects.toMatchObject(refused);
  });
});
