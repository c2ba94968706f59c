import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DifferadError } from '@differad/core';

/** One line of `predictions.jsonl` as `differad eval` writes it. */
export interface EvalPredictionLine {
  readonly id: string;
  readonly completion: string;
  /** The server that answered. */
  readonly server: string;
  readonly latency_ms: number;
}

/** An append-only `predictions.jsonl` that a rerun resumes from (findPendingWork reads what it holds). */
export interface PredictionLog {
  readonly path: string;
  /** Appends one line and hands it to the OS before resolving, so a crash loses nothing that was answered. */
  append(line: EvalPredictionLine): Promise<void>;
  close(): Promise<void>;
}

const LF = 0x0a;

/** Size of the file, or null when there is none. */
async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DifferadError('OUTPUT_READ_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Where the bytes after the last newline start, and how many newlines come before: one streamed read, nothing kept. */
async function findLastNewline(path: string): Promise<{ end: number; lines: number }> {
  let offset = 0;
  let end = 0;
  let lines = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      for (let at = chunk.indexOf(LF); at >= 0; at = chunk.indexOf(LF, at + 1)) {
        lines++;
        end = offset + at + 1;
      }
      offset += chunk.length;
    }
  } catch (error) {
    throw new DifferadError('OUTPUT_READ_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return { end, lines };
}

/** Whether the file's last byte is a newline (an empty file counts as whole). */
async function endsWithNewline(path: string, size: number): Promise<boolean> {
  if (size === 0) return true;
  try {
    const file = await open(path, 'r');
    try {
      const last = Buffer.alloc(1);
      await file.read(last, 0, 1, size - 1);
      return last[0] === LF;
    } finally {
      await file.close();
    }
  } catch (error) {
    throw new DifferadError('OUTPUT_READ_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Opens (or creates) a predictions file for appending. Every line is written
 * whole and ends with a newline, so a last line without one was cut by a
 * crash: it is cut off the file (its id is asked again) and `warn` says so.
 * Nothing of the file is kept: only its last byte is read, and the whole
 * file streamed once only when that byte shows a torn line.
 */
export async function openPredictionLog(path: string, warn: (message: string) => void): Promise<PredictionLog> {
  const size = await sizeOf(path);
  if (size !== null && !(await endsWithNewline(path, size))) {
    const { end, lines } = await findLastNewline(path);
    await truncate(path, end);
    warn(`${path}:${lines + 1}: ignored a torn last line (${size - end} bytes, cut by an interrupted write)`);
  }
  // Opened (and its folder made) at the first answer, so a run that fails its checks leaves nothing behind.
  let file: FileHandle | undefined;
  // One write at a time, so lines never interleave.
  let tail: Promise<void> = Promise.resolve();
  const openFile = async (): Promise<FileHandle> => {
    try {
      await mkdir(dirname(path), { recursive: true });
      return await open(path, 'a');
    } catch (error) {
      throw new DifferadError('OUTPUT_WRITE_FAILED', `cannot open ${path} for appending: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    path,
    append(line) {
      const write = tail.then(async () => {
        file ??= await openFile();
        await file.write(`${JSON.stringify(line)}\n`);
      });
      tail = write.catch(() => undefined);
      return write;
    },
    async close() {
      await tail;
      await file?.close();
    },
  };
}
