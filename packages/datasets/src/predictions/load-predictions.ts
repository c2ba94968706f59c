import type { PredictionRecord } from '@differad/core';
import { readJsonl } from '../jsonl/read-jsonl.js';
import type { LineProblem } from '../jsonl/line-problem.js';
import { toPredictionLine } from './scan-predictions.js';

export interface LoadedPredictions {
  readonly path: string;
  readonly byId: ReadonlyMap<string, PredictionRecord>;
  /** Non-blank lines read. */
  readonly lineCount: number;
  /** Lines skipped because they are not JSON or lack `id` and `completion`/`box`. */
  readonly malformed: readonly LineProblem[];
  /** Later lines for an id already seen (the first one is kept). */
  readonly duplicates: readonly LineProblem[];
  /** Lines whose id is not in `knownIds` (ignored). */
  readonly unknown: readonly LineProblem[];
}

/**
 * Reads model predictions. Model output is untrusted, so bad lines never stop
 * scoring: they are collected with file:line and the field, and the ids they
 * would have answered are scored as missing. Throws only when the file cannot
 * be read.
 */
export async function loadPredictions(path: string, knownIds: ReadonlySet<string>): Promise<LoadedPredictions> {
  const byId = new Map<string, PredictionRecord>();
  const firstLine = new Map<string, number>();
  const malformed: LineProblem[] = [];
  const duplicates: LineProblem[] = [];
  const unknown: LineProblem[] = [];
  let lineCount = 0;
  for await (const entry of readJsonl(path)) {
    lineCount++;
    if (!entry.ok) {
      malformed.push({ file: path, line: entry.line, field: '', message: entry.message });
      continue;
    }
    const parsed = toPredictionLine(path, entry.line, entry.value);
    if (parsed.kind === 'malformed') {
      malformed.push(...parsed.problems);
      continue;
    }
    const { id } = parsed.prediction;
    if (!knownIds.has(id)) {
      unknown.push({ file: path, line: entry.line, field: 'id', message: `id "${id}" is not in the manifest` });
      continue;
    }
    const first = firstLine.get(id);
    if (first !== undefined) {
      duplicates.push({ file: path, line: entry.line, field: 'id', message: `duplicate id "${id}" (line ${first} is used)` });
      continue;
    }
    firstLine.set(id, entry.line);
    byId.set(id, parsed.prediction);
  }
  return { path, byId, lineCount, malformed, duplicates, unknown };
}
