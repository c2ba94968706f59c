import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DifferadError } from '@differad/core';

/** File extensions importers treat as images. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp'];

/** True when `path` has an image extension (case-insensitive). */
export function isImageFile(path: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(path).toLowerCase());
}

/** A file name without its extension. */
export function stemOf(path: string): string {
  const name = basename(path);
  return name.slice(0, name.length - extname(name).length);
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves `entry` (relative to `root`, or absolute) and proves it stays
 * inside `root`, both as written (`..`) and after following links. Throws
 * `DATASET_PATH_ESCAPES_ROOT` naming the entry, or `DATASET_FILE_MISSING`
 * when it does not exist.
 */
export async function resolveInsideRoot(root: string, entry: string): Promise<string> {
  const absRoot = resolve(root);
  const path = resolve(absRoot, entry);
  if (!isInside(absRoot, path)) {
    throw new DifferadError('DATASET_PATH_ESCAPES_ROOT', `${entry} points outside the dataset root ${absRoot}`, { details: { file: entry } });
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (cause) {
    throw new DifferadError('DATASET_FILE_MISSING', `${path} does not exist`, { cause, details: { file: path } });
  }
  const realRoot = await realpath(absRoot);
  if (!isInside(realRoot, real)) {
    throw new DifferadError('DATASET_PATH_ESCAPES_ROOT', `${path} links to ${real}, outside the dataset root ${realRoot}`, {
      details: { file: path },
    });
  }
  return path;
}

/** Throws `DATASET_LAYOUT_INVALID` unless `path` is a directory. */
export async function requireDirectory(path: string, what: string): Promise<string> {
  const abs = resolve(path);
  const info = await stat(abs).catch(() => null);
  if (info === null || !info.isDirectory()) throw new DifferadError('DATASET_LAYOUT_INVALID', `${what} ${abs} is not a directory`);
  return abs;
}

/** Names of the sub-directories of `dir` (links followed), sorted; none when `dir` is missing. */
export async function listDirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() || (e.isSymbolicLink() && (await stat(join(dir, e.name)).catch(() => null))?.isDirectory())) out.push(e.name);
  }
  return out.sort();
}

/** Image files directly in `dir` (absolute paths, links included), sorted; none when `dir` is missing. */
export async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isImageFile(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Image files anywhere under `dir`, sorted by path (hidden folders skipped). */
export async function listImagesDeep(dir: string): Promise<string[]> {
  const out = await listImages(dir);
  for (const sub of await listDirectories(dir)) {
    if (!sub.startsWith('.')) out.push(...(await listImagesDeep(join(dir, sub))));
  }
  return out.sort();
}

/** A path as a manifest line writes it: relative to the manifest's folder, with forward slashes. */
export function toManifestPath(manifestDir: string, file: string): string {
  return relative(manifestDir, file).split(sep).join('/');
}
