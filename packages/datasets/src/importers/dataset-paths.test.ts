import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { listDirectories, listImages, listImagesDeep, requireDirectory, resolveInsideRoot } from './dataset-paths.js';

let dir: string;
const touch = (path: string) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
};

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'differad-paths-')));
  touch(join(dir, 'real/a.png'));
  touch(join(dir, 'real/deeper/b.jpg'));
  touch(join(dir, 'real/notes.txt'));
});

describe('listImagesDeep', () => {
  it('follows symlinked images and folders, naming them by where the link lies', async () => {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'cls'), { recursive: true });
    symlinkSync(join(dir, 'real/a.png'), join(root, 'cls/linked.png'));
    symlinkSync(join(dir, 'real'), join(root, 'cls/folder'));
    symlinkSync(join(dir, 'missing.png'), join(root, 'cls/dangling.png'));
    touch(join(root, '.hidden/c.png'));
    expect(await listImagesDeep(root)).toEqual([
      join(root, 'cls/dangling.png'),
      join(root, 'cls/folder/a.png'),
      join(root, 'cls/folder/deeper/b.jpg'),
      join(root, 'cls/linked.png'),
    ]);
    expect(await listImages(join(root, 'cls'))).toEqual([join(root, 'cls/dangling.png'), join(root, 'cls/linked.png')]);
    expect(await listDirectories(join(root, 'cls'))).toEqual(['folder']);
  });

  it('reads the same folder twice through two links when neither lies inside it', async () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    symlinkSync(join(dir, 'real'), join(root, 'one'));
    symlinkSync(join(dir, 'real'), join(root, 'two'));
    expect(await listImagesDeep(root)).toHaveLength(4);
  });

  it('refuses a folder that links back to one it lies in, naming the link', async () => {
    symlinkSync(join(dir, 'real'), join(dir, 'real/deeper/up'));
    await expect(listImagesDeep(join(dir, 'real'))).rejects.toMatchObject({
      code: 'DATASET_LINK_LOOP',
      message: `${join(dir, 'real/deeper/up')} links back to ${join(dir, 'real')}, a folder it lies in: a symlink loop`,
    });
  });

  it('refuses a link that leads to itself, naming it', async () => {
    symlinkSync(join(dir, 'real/b.png'), join(dir, 'real/a.png.link'));
    symlinkSync(join(dir, 'real/a.png.link'), join(dir, 'real/b.png'));
    await expect(listImagesDeep(join(dir, 'real'))).rejects.toMatchObject({
      code: 'DATASET_LINK_LOOP',
      message: expect.stringContaining(join(dir, 'real/a.png.link')),
    });
    await expect(requireDirectory(join(dir, 'real/b.png'), 'image folder')).rejects.toMatchObject({ code: 'DATASET_LINK_LOOP' });
  });
});

describe('resolveInsideRoot', () => {
  it('refuses an entry that leaves the root through .., and follows links wherever they lead', async () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    symlinkSync(join(dir, 'real'), join(root, 'elsewhere'));
    await expect(resolveInsideRoot(root, '../real/a.png')).rejects.toMatchObject({ code: 'DATASET_PATH_ESCAPES_ROOT' });
    await expect(resolveInsideRoot(root, 'elsewhere/a.png')).resolves.toBe(join(root, 'elsewhere/a.png'));
    await expect(resolveInsideRoot(root, 'elsewhere/none.png')).rejects.toMatchObject({ code: 'DATASET_FILE_MISSING' });
  });
});
