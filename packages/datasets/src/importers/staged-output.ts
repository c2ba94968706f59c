import { randomBytes } from 'node:crypto';
import { type Stats } from 'node:fs';
import { cp, lstat, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DifferadError } from '@differad/core';

/**
 * Name prefix of the hidden folder a run writes into, inside its output folder
 * (same file system, so its entries go into place by rename):
 * `<out>/.differad-staging-<pid>-<random>`.
 */
export const STAGING_PREFIX = '.differad-staging-';
/** Inside a staging folder: what a commit replaced, kept until it has finished so a failed commit can put it back. */
const REPLACED = '.replaced';
/** Leaves first and arrives last, so OUT never holds a manifest that lists another run's files. */
const MANIFEST = 'manifest.jsonl';

/** A run's outputs, written to a staging folder until the run has succeeded. */
export interface StagedOutput {
  /** The output folder (absolute). */
  readonly out: string;
  /** The staging folder inside `out` that the run writes to. */
  readonly dir: string;
  /**
   * Moves the staged entries into `out`: folders are merged, a staged file
   * replaces the file of the same name, anything else in `out` stays. On
   * failure the moves are undone, the staging folder discarded and
   * `OUTPUT_WRITE_FAILED` thrown.
   */
  commit(): Promise<void>;
  /** Deletes the staging folder, and `out` (with the parents this run created) when that leaves it empty. */
  discard(): Promise<void>;
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;
const lstatOrNull = (path: string): Promise<Stats | null> => lstat(path).catch(() => null);

/** Whether process `pid` runs (on this machine): signal 0 checks without signalling. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** Removes the staging folders of processes that ended without committing or discarding them (killed runs). */
async function removeAbandoned(out: string): Promise<void> {
  for (const name of await readdir(out)) {
    const pid = /^\.differad-staging-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && !isRunning(Number(pid))) await rm(join(out, name), { recursive: true, force: true });
  }
}

/** rename, or copy and delete across file systems (a folder of OUT may be a link to another disk). */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if (errorCode(error) !== 'EXDEV') throw error;
    await cp(from, to, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
    await rm(from, { recursive: true, force: true });
  }
}

/** The moves of one commit, each with its undo. */
function createMoves(dir: string) {
  const undo: (() => Promise<void>)[] = [];
  let replaced = 0;
  return {
    async place(from: string, to: string) {
      await move(from, to);
      undo.push(() => move(to, from));
    },
    async setAside(path: string) {
      const to = join(dir, REPLACED, String(replaced++));
      await mkdir(dirname(to), { recursive: true });
      await move(path, to);
      undo.push(() => move(to, path));
    },
    async undoAll() {
      for (const step of undo.reverse()) await step().catch(() => undefined);
    },
  };
}

type Moves = ReturnType<typeof createMoves>;

async function mergeInto(from: string, to: string, names: readonly string[], moves: Moves): Promise<void> {
  for (const name of names) {
    const src = join(from, name);
    const dst = join(to, name);
    const staged = await lstat(src);
    // stat follows links: a folder of OUT that is a link to another folder is merged into, as writing into it would.
    const existing = (await stat(dst).catch(() => null)) ?? (await lstatOrNull(dst));
    if (existing?.isDirectory() && staged.isDirectory()) {
      await mergeInto(src, dst, await readdir(src), moves);
      continue;
    }
    if (existing !== null && existing.isDirectory() !== staged.isDirectory()) {
      const [is, goes] = existing.isDirectory() ? ['folder', 'file'] : ['file', 'folder'];
      throw new DifferadError('OUTPUT_EXISTS', `${dst} is a ${is} where this run writes a ${goes}`, { details: { file: dst } });
    }
    if (existing !== null) await moves.setAside(dst);
    await moves.place(src, dst);
  }
}

async function commit(dir: string, out: string): Promise<void> {
  const moves = createMoves(dir);
  const names = (await readdir(dir)).filter((n) => n !== REPLACED && n !== MANIFEST);
  const withManifest = (await lstatOrNull(join(dir, MANIFEST))) !== null;
  if (withManifest && (await lstatOrNull(join(out, MANIFEST))) !== null) await moves.setAside(join(out, MANIFEST));
  await mergeInto(dir, out, names, moves).catch(async (error: unknown) => {
    await moves.undoAll();
    throw error;
  });
  if (withManifest) {
    await moves.place(join(dir, MANIFEST), join(out, MANIFEST)).catch(async (error: unknown) => {
      await moves.undoAll();
      throw error;
    });
  }
}

/**
 * Creates `out` if needed and a fresh staging folder inside it, after
 * removing the staging folders that killed runs left behind (their process
 * is gone); a run never reads another run's staging folder.
 */
export async function createStagedOutput(outDir: string): Promise<StagedOutput> {
  const out = resolve(outDir);
  const dir = join(out, `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  let created: string | undefined;
  try {
    created = await mkdir(out, { recursive: true });
    await removeAbandoned(out);
    await mkdir(dir);
  } catch (cause) {
    throw new DifferadError('OUTPUT_WRITE_FAILED', `cannot write into ${out}: ${(cause as Error).message}`, { cause });
  }
  const discard = async () => {
    await rm(dir, { recursive: true, force: true });
    if (created === undefined) return;
    for (let d = out; ; d = dirname(d)) {
      // rmdir refuses a folder that is not empty: what someone else put there stays.
      if (
        !(await rmdir(d).then(
          () => true,
          () => false,
        )) ||
        d === created ||
        d === dirname(d)
      )
        return;
    }
  };
  return {
    out,
    dir,
    async commit() {
      try {
        await commit(dir, out);
      } catch (cause) {
        await discard();
        if (cause instanceof DifferadError) throw cause;
        throw new DifferadError(
          'OUTPUT_WRITE_FAILED',
          `cannot move the outputs into ${out}: ${(cause as Error).message}; ${out} was left as it was`,
          { cause },
        );
      }
      await rm(dir, { recursive: true, force: true });
    },
    discard,
  };
}

/** Runs `fn` against a staging folder; its outputs go into `out` only when it succeeds: an error leaves `out` as it was. */
export async function withStagedOutput<T>(out: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const staged = await createStagedOutput(out);
  let result: T;
  try {
    result = await fn(staged.dir);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  await staged.commit();
  return result;
}
