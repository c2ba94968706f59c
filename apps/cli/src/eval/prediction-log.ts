import { type FileHandle, mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DifferadError, parsePredictionRecord, type PredictionRecord } from '@differad/core';

/** One line of `predictions.jsonl` as `differad eval` writes it. */
export interface EvalPredictionLine {
  readonly id: string;
  readonly completion: string;
  /** The server that answered. */
  readonly server: string;
  readonly latency_ms: number;
}

/** An append-only `predictions.jsonl` that a rerun resumes from. */
export interface PredictionLog {
  readonly path: string;
  /** Predictions already in the file when it was opened (the first line per id). */
  readonly existing: ReadonlyMap<string, PredictionRecord>;
  /** Appends one line and hands it to the OS before resolving, so a crash loses nothing that was answered. */
  append(line: EvalPredictionLine): Promise<void>;
  close(): Promise<void>;
}

async function readExisting(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DifferadError('OUTPUT_READ_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Opens (or creates) a predictions file for appending. Every line is written
 * whole and ends with a newline, so a last line without one was cut by a
 * crash: it is cut off the file (its id is asked again) and `warn` says so.
 */
export async function openPredictionLog(path: string, warn: (message: string) => void): Promise<PredictionLog> {
  const text = await readExisting(path);
  const existing = new Map<string, PredictionRecord>();
  if (text !== null && text.length > 0) {
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) {
      await truncate(path, Buffer.byteLength(text.slice(0, end)));
      warn(`${path}:${text.slice(0, end).split('\n').length}: ignored a torn last line (${text.length - end} characters, cut by an interrupted write)`);
    }
    for (const raw of text.slice(0, end).split('\n')) {
      if (raw.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        continue;
      }
      const parsed = parsePredictionRecord(value);
      if (parsed.success && !existing.has(parsed.data.id)) existing.set(parsed.data.id, parsed.data);
    }
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
    existing,
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
