import { stat } from 'node:fs/promises';
import { DifferadError } from '@differad/core';
import { readLines } from './read-lines.js';

/** One non-blank line of a JSONL file: its 1-based number and its parsed value, or why it did not parse. */
export type JsonlLine =
  | { readonly line: number; readonly ok: true; readonly value: unknown }
  | { readonly line: number; readonly ok: false; readonly message: string };

/** Longest line accepted, UTF-8 bytes; a longer one is reported by number and never held whole (protects memory). */
export const MAX_JSONL_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Streams a JSONL file line by line, so a manifest of any length is read in
 * bounded memory. Blank lines are skipped; a line that is not JSON, or longer
 * than `maxLineBytes`, is yielded with a message, never thrown. A missing or
 * unreadable file throws `DATA_FILE_UNREADABLE` naming the path.
 */
export async function* readJsonl(path: string, options: { maxLineBytes?: number } = {}): AsyncGenerator<JsonlLine> {
  const maxLineBytes = options.maxLineBytes ?? MAX_JSONL_LINE_BYTES;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch (cause) {
    throw new DifferadError('DATA_FILE_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    for await (const read of readLines(path, maxLineBytes)) {
      const n = read.line;
      if (read.text === null) {
        yield { line: n, ok: false, message: `line of ${read.bytes} bytes is longer than the limit of ${maxLineBytes} bytes: not read` };
        continue;
      }
      const trimmed = read.text.trim();
      if (trimmed === '') continue;
      yield parseLine(n, n === 1 && trimmed.charCodeAt(0) === 0xfeff ? trimmed.slice(1) : trimmed);
    }
  } catch (cause) {
    throw new DifferadError('DATA_FILE_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

function parseLine(line: number, text: string): JsonlLine {
  try {
    return { line, ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { line, ok: false, message: `not valid JSON (${(error as Error).message})` };
  }
}
