import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { DifferadError } from '@differad/core';

/** A path the trainer will not use: a bad request naming `field`. */
function refuse(field: string, message: string): DifferadError {
  return new DifferadError('TRAINER_REQUEST_INVALID', `${field}: ${message}`, { details: { fields: [{ field, message }] } });
}

const isInside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Checks (and with `create`, makes) the folders from `root` down to `path`'s
 * parent one at a time with lstat: a symbolic link or a non-folder among them
 * is refused, so a link planted below `root` cannot send a write or read
 * elsewhere. `root` itself is the operator's and may be a link. Then the
 * parent's real path must lie inside `root`'s real path (the last word on
 * containment). Returns false when a folder is missing and `create` is off.
 */
async function checkParents(root: string, path: string, field: string, create: boolean): Promise<boolean> {
  if (create) await mkdir(root, { recursive: true });
  const rel = relative(root, dirname(path));
  if (rel.startsWith('..') || isAbsolute(rel)) throw refuse(field, `must be a file inside ${root}`);
  let current = root;
  for (const part of rel === '' ? [] : rel.split(sep)) {
    current = join(current, part);
    if (create) await mkdir(current).catch((error: unknown) => (code(error) === 'EEXIST' ? undefined : Promise.reject(error)));
    const info = await lstat(current).catch((error: unknown) => (code(error) === 'ENOENT' ? null : Promise.reject(error)));
    if (info === null) return false;
    if (info.isSymbolicLink()) throw refuse(field, `${current} is a symbolic link; the trainer reads and writes only inside ${root}`);
    if (!info.isDirectory()) throw refuse(field, `${current} is not a folder`);
  }
  const [realRoot, realParent] = await Promise.all([realpath(root), realpath(dirname(path))]);
  if (!isInside(realRoot, realParent)) throw refuse(field, `resolves outside ${root}`);
  return true;
}

/**
 * Writes `text` to `path` inside `root` atomically: a new temp file beside it
 * (O_EXCL | O_NOFOLLOW: never an existing file or link), fsync, containment
 * checked again, rename. A symbolic link at `path` itself is replaced, never
 * written through. Returns the bytes written.
 */
export async function writeConfinedFile(root: string, path: string, text: string, field: string): Promise<number> {
  await checkParents(root, path, field, true);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const data = Buffer.from(text, 'utf8');
  try {
    const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // A folder swapped for a link while the file was written is caught here.
    await checkParents(root, path, field, false);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return data.length;
}

/**
 * Opens `path` inside `root` for reading without following a link anywhere
 * below `root` (the file itself included, O_NOFOLLOW). ENOENT when it or a
 * folder above it is missing.
 */
export async function openConfinedFile(root: string, path: string, field: string): Promise<FileHandle> {
  if (!(await checkParents(root, path, field, false)))
    throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (code(error) === 'ELOOP') throw refuse(field, `${path} is a symbolic link; the trainer reads only files inside ${root}`);
    throw error;
  }
}
