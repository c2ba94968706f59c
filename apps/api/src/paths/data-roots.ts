import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DifferadError } from '@differad/core';
import { apiError } from '../errors/api-errors.js';

/** The folders job bodies may name paths in. */
export interface DataRoots {
  /** The roots, symlinks resolved. The first is the base of relative paths. */
  readonly roots: readonly string[];
  /**
   * The real path of `path` (relative paths from the first root), symlinks
   * followed all the way: API_PATH_OUTSIDE_DATA_ROOTS (400) naming `field`
   * when it lies outside every root. With `mustExist` (the default) a missing
   * path is API_REQUEST_INVALID naming `field`; without it (an output folder)
   * the nearest existing ancestor is resolved and the rest appended.
   */
  resolve(path: string, field: string, options?: { readonly mustExist?: boolean }): Promise<string>;
}

/** True when `child` is `parent` or below it (both absolute and normalized). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function realpathOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw error;
  }
}

/** Realpath of the nearest existing ancestor, plus the missing tail. */
async function realpathOfNearest(path: string): Promise<string> {
  const tail: string[] = [];
  let current = path;
  for (let i = 0; i < 256; i++) {
    const real = await realpathOrNull(current);
    if (real !== null) return join(real, ...tail.reverse());
    const parent = dirname(current);
    if (parent === current) break;
    tail.push(basename(current));
    current = parent;
  }
  return path;
}

/**
 * Resolves the configured roots (relative to `cwd`; each is created when
 * missing, then resolved through symlinks). DATA_ROOT_INVALID when none is given.
 */
export async function createDataRoots(paths: readonly string[], cwd: string): Promise<DataRoots> {
  if (paths.length === 0) throw new DifferadError('API_DATA_ROOT_INVALID', 'at least one --data-root is needed');
  const roots: string[] = [];
  const spelled: string[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    await mkdir(absolute, { recursive: true });
    spelled.push(absolute);
    roots.push(await realpath(absolute));
  }
  const base = roots[0] ?? cwd;
  const outside = (field: string, path: string) =>
    apiError('API_PATH_OUTSIDE_DATA_ROOTS', `${field}: ${path} is outside the data roots (${roots.join(', ')})`, {
      field,
      fields: [{ field, message: 'outside the data roots' }],
    });
  return {
    roots,
    async resolve(path, field, options = {}) {
      if (path.includes('\0')) throw outside(field, JSON.stringify(path));
      const absolute = resolve(base, path);
      // Check the spelled path first, so that nothing about files outside the roots (even whether they exist) leaks.
      if (![...roots, ...spelled].some((root) => isInside(root, absolute))) throw outside(field, path);
      const real = options.mustExist === false ? await realpathOfNearest(absolute) : await realpathOrNull(absolute);
      if (real === null) {
        throw apiError('API_REQUEST_INVALID', `${field}: ${path} does not exist`, { fields: [{ field, message: 'no such file or folder' }] });
      }
      if (!roots.some((root) => isInside(root, real))) throw outside(field, path);
      return real;
    },
  };
}
