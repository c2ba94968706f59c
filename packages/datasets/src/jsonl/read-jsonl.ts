import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { DifferadError } from '@differad/core';

/** One non-blank line of a JSONL file: its 1-based number and its parsed value, or why it did not parse. */
export type JsonlLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown }
  | { readonly line: number; readonly ok: false; readonly message: string };

/** Longest line accepted; longer lines are reported, not parsed (protects memory). */
export const MAX_JSONL_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Streams a JSONL file line by line, so a manifest of any length is read in
 * bounded memory. Blank lines are skipped; a line that is not JSON is yielded
 * with a message, never thrown. A missing or unreadable file throws
 * `DATA_FILE_UNREADABLE` naming the path.
 */
export async function* readJsonl(path: string): AsyncGenerator<JsonlLine> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch (cause) {
    throw new DifferadError('DATA_FILE_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of lines) {
    n++;
    const trimmed = text.trim();
    if (trimmed === '') continue;
    if (n === 1 && trimmed.charCodeAt(0) === 0xfeff) {
      yield parseLine(n, trimmed.slice(1));
      continue;
    }
    yield parseLine(n, trimmed);
  }
}

function parseLine(line: number, text: string): JsonlLine {
  if (text.length > MAX_JSONL_LINE_CHARS) return { line, ok: false, message: `line longer than ${MAX_JSONL_LINE_CHARS} characters` };
  try {
    return { line, ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { line, ok: false, message: `not valid JSON (${(error as Error).message})` };
  }
}
