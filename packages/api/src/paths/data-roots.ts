import { mkdir, realpath, stat } from 'node:fs/promises';
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
  resolve(path: string, field: string, options?: ResolveOptions): Promise<string>;
}

/** Options of {@link DataRoots.resolve}. */
export interface ResolveOptions {
  /** False for an output folder that may not exist yet (default true). */
  readonly mustExist?: boolean;
  /** What the path must be where it exists: API_REQUEST_INVALID naming the field otherwise. */
  readonly kind?: 'file' | 'folder';
}

/** Why the file system refused a path, in words for the client; null for errors that are not about the path. */
function toPathProblem(code: string | undefined): string | null {
  switch (code) {
    case 'ENAMETOOLONG':
      return 'the path or one of its names is too long';
    case 'ELOOP':
      return 'the path runs into a loop of symbolic links';
    case 'EACCES':
    case 'EPERM':
      return 'the path is not accessible to the API';
    case 'EINVAL':
    case 'EILSEQ':
      return 'the path is not a valid file name';
    default:
      return null;
  }
}

const invalidPath = (field: string, path: string, message: string) =>
  apiError('API_REQUEST_INVALID', `${field}: ${path.length > 200 ? `${path.slice(0, 200)}…` : path}: ${message}`, {
    fields: [{ field, message }],
  });

/** True when `child` is `parent` or below it (both absolute and normalized). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Maps a file-system refusal of a client's path to a 400 naming `field`; anything else is rethrown. */
function rethrowAsInvalid(error: unknown, field: string, path: string): never {
  const problem = toPathProblem((error as NodeJS.ErrnoException).code);
  throw problem === null ? error : invalidPath(field, path, problem);
}

async function realpathOrNull(path: string, field: string, spelled: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    return rethrowAsInvalid(error, field, spelled);
  }
}

/** Realpath of the nearest existing ancestor (`existing`) and of the whole path with the missing tail appended. */
async function realpathOfNearest(
  path: string,
  field: string,
  spelled: string,
): Promise<{ real: string; existing: string | null; missing: boolean }> {
  const tail: string[] = [];
  let current = path;
  for (let i = 0; i < 256; i++) {
    const real = await realpathOrNull(current, field, spelled);
    if (real !== null) return { real: join(real, ...tail.reverse()), existing: real, missing: tail.length > 0 };
    const parent = dirname(current);
    if (parent === current) break;
    tail.push(basename(current));
    current = parent;
  }
  return { real: path, existing: null, missing: true };
}

async function isFolder(path: string, field: string, spelled: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    return rethrowAsInvalid(error, field, spelled);
  }
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
      if (options.mustExist === false) {
        const { real, existing, missing } = await realpathOfNearest(absolute, field, path);
        if (!roots.some((root) => isInside(root, real))) throw outside(field, path);
        // A file where a folder must be (the path itself, or a part of it that exists) would fail later, when the job starts.
        const mustBeFolder = missing || options.kind === 'folder';
        if (existing !== null && mustBeFolder && !(await isFolder(existing, field, path))) {
          throw invalidPath(field, path, missing ? 'a part of the path is a file, not a folder' : 'not a folder');
        }
        return real;
      }
      const real = await realpathOrNull(absolute, field, path);
      if (real === null) {
        throw apiError('API_REQUEST_INVALID', `${field}: ${path} does not exist`, {
          fields: [{ field, message: 'no such file or folder' }],
        });
      }
      if (!roots.some((root) => isInside(root, real))) throw outside(field, path);
      if (options.kind !== undefined && (await isFolder(real, field, path)) !== (options.kind === 'folder')) {
        throw invalidPath(field, path, options.kind === 'folder' ? 'not a folder' : 'a folder, not a file');
      }
      return real;
    },
  };
}
