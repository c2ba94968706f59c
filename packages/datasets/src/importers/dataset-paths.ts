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

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** `DATASET_LINK_LOOP` naming the link at `path`. */
function linkLoop(path: string, why: string): DifferadError {
  return new DifferadError('DATASET_LINK_LOOP', `${path} ${why}: a symlink loop`, { details: { file: path } });
}

/**
 * Resolves `entry` (relative to `root`, or absolute) and proves that, as
 * written, it stays inside `root`: a list or annotation file may not reach
 * out through `..`. Links are followed wherever they lead: linking images
 * into a folder is how datasets get assembled. Throws
 * `DATASET_PATH_ESCAPES_ROOT` naming the entry, `DATASET_FILE_MISSING` when
 * it does not exist, `DATASET_LINK_LOOP` for a link that leads to itself.
 */
export async function resolveInsideRoot(root: string, entry: string): Promise<string> {
  const absRoot = resolve(root);
  const path = resolve(absRoot, entry);
  if (!isInside(absRoot, path)) {
    throw new DifferadError('DATASET_PATH_ESCAPES_ROOT', `${entry} points outside the dataset root ${absRoot}`, {
      details: { file: entry },
    });
  }
  try {
    await stat(path);
  } catch (cause) {
    if (errorCode(cause) === 'ELOOP') throw linkLoop(path, 'leads back to itself through links');
    throw new DifferadError('DATASET_FILE_MISSING', `${path} does not exist`, { cause, details: { file: path } });
  }
  return path;
}

/** Throws `DATASET_LAYOUT_INVALID` unless `path` is a directory (links followed). */
export async function requireDirectory(path: string, what: string): Promise<string> {
  const abs = resolve(path);
  const info = await stat(abs).catch((error: unknown) => {
    if (errorCode(error) === 'ELOOP') throw linkLoop(abs, `(${what}) leads back to itself through links`);
    return null;
  });
  if (info === null || !info.isDirectory()) throw new DifferadError('DATASET_LAYOUT_INVALID', `${what} ${abs} is not a directory`);
  return abs;
}

/** A folder entry with links followed: a dangling link is `missing`. */
interface Entry {
  readonly name: string;
  readonly path: string;
  readonly kind: 'file' | 'directory' | 'missing' | 'other';
}

/**
 * The entries of `dir` sorted by name, links followed (the one place the
 * importers read folders); none when `dir` is missing. A link that leads to
 * itself throws `DATASET_LINK_LOOP` naming it.
 */
async function readEntries(dir: string): Promise<Entry[]> {
  const dirents = (await readdir(dir, { withFileTypes: true }).catch(() => [])).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const out: Entry[] = [];
  for (const e of dirents) {
    const path = join(dir, e.name);
    let kind: Entry['kind'] = e.isFile() ? 'file' : e.isDirectory() ? 'directory' : 'other';
    if (e.isSymbolicLink()) {
      try {
        const info = await stat(path);
        kind = info.isFile() ? 'file' : info.isDirectory() ? 'directory' : 'other';
      } catch (error) {
        if (errorCode(error) === 'ELOOP') throw linkLoop(path, 'leads back to itself through links');
        // A dangling link to an image stays listed, so the import names it as missing.
        kind = 'missing';
      }
    }
    out.push({ name: e.name, path, kind });
  }
  return out;
}

const isImageEntry = (e: Entry) => (e.kind === 'file' || e.kind === 'missing') && isImageFile(e.name);

/** Names of the sub-directories of `dir` (links followed), sorted; none when `dir` is missing. */
export async function listDirectories(dir: string): Promise<string[]> {
  return (await readEntries(dir)).filter((e) => e.kind === 'directory').map((e) => e.name);
}

/** Image files directly in `dir` (absolute paths, links included), sorted; none when `dir` is missing. */
export async function listImages(dir: string): Promise<string[]> {
  return (await readEntries(dir)).filter(isImageEntry).map((e) => e.path);
}

async function walkImages(dir: string, inside: readonly string[]): Promise<string[]> {
  const entries = await readEntries(dir);
  const out = entries.filter(isImageEntry).map((e) => e.path);
  for (const e of entries) {
    if (e.kind !== 'directory' || e.name.startsWith('.')) continue;
    // Following a link to a folder the walk is already inside would never end.
    const real = await realpath(e.path);
    if (inside.includes(real)) throw linkLoop(e.path, `links back to ${real}, a folder it lies in`);
    out.push(...(await walkImages(e.path, [...inside, real])));
  }
  return out;
}

/**
 * Image files anywhere under `dir`, sorted by path (hidden folders skipped).
 * Links to files and folders are followed and listed where the link lies; a
 * link back to a folder the walk is inside throws `DATASET_LINK_LOOP`
 * naming it. The same folder reached through two links is read twice.
 */
export async function listImagesDeep(dir: string): Promise<string[]> {
  const real = await realpath(dir).catch(() => resolve(dir));
  return (await walkImages(dir, [real])).sort();
}

/** A path as a manifest line writes it: relative to the manifest's folder, with forward slashes. */
export function toManifestPath(manifestDir: string, file: string): string {
  return relative(manifestDir, file).split(sep).join('/');
}
