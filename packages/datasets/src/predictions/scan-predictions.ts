import { type IdLookup, parsePredictionRecord, type PredictionRecord, toFieldProblems } from '@differad/core';
import { readJsonl } from '../jsonl/read-jsonl.js';
import type { LineProblem } from '../jsonl/line-problem.js';

/** Bad prediction lines listed by a scan; the rest are counted. */
export const PREDICTION_PROBLEM_EXAMPLES = 20;

/** One line of a prediction file: a prediction, or why it is not one. */
export type PredictionLine =
  | { readonly kind: 'prediction'; readonly prediction: PredictionRecord }
  | { readonly kind: 'malformed'; readonly problems: readonly LineProblem[] };

function describeShape(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a line must be a JSON object';
  const v = value as Record<string, unknown>;
  if (!('completion' in v) && !('box' in v)) return 'needs "completion" (model text) or "box" (pixels or null)';
  return null;
}

/** Classifies one parsed JSON value of a prediction file (line `line` of `path`). */
export function toPredictionLine(path: string, line: number, value: unknown): PredictionLine {
  const shape = describeShape(value);
  if (shape !== null) {
    const id = (value as { id?: unknown } | null)?.id;
    return { kind: 'malformed', problems: [{ file: path, line, field: typeof id === 'string' ? '' : 'id', message: shape }] };
  }
  const parsed = parsePredictionRecord(value);
  if (!parsed.success) return { kind: 'malformed', problems: toFieldProblems(parsed.error).map((p) => ({ file: path, line, ...p })) };
  return { kind: 'prediction', prediction: parsed.data };
}

/** What a scan of a prediction file found; problems are counted like LoadedPredictions' lists. */
export interface PredictionScan {
  readonly path: string;
  /** Non-blank lines read. */
  readonly lineCount: number;
  /** Predictions handed on: the first line of each manifest id. */
  readonly used: number;
  readonly malformed: number;
  readonly duplicates: number;
  readonly unknown: number;
  /** The first PREDICTION_PROBLEM_EXAMPLES problems in line order. */
  readonly examples: readonly LineProblem[];
  /** malformed + duplicates + unknown. */
  readonly problemCount: number;
}

/**
 * Streams a prediction file, handing each prediction whose id is in
 * `positions` to `onPrediction` with that id's position, the first line per
 * id only. Classifies lines exactly as loadPredictions does, but keeps counts
 * and a few examples instead of every bad line, and remembers which ids it saw
 * in one number per manifest record: memory does not grow with the file.
 */
export async function scanPredictions(
  path: string,
  positions: IdLookup,
  onPrediction: (position: number, prediction: PredictionRecord) => void,
): Promise<PredictionScan> {
  const firstLine = new Uint32Array(positions.size);
  const examples: LineProblem[] = [];
  const counts = { lineCount: 0, used: 0, malformed: 0, duplicates: 0, unknown: 0 };
  const report = (problem: LineProblem) => {
    if (examples.length < PREDICTION_PROBLEM_EXAMPLES) examples.push(problem);
  };
  for await (const entry of readJsonl(path)) {
    counts.lineCount++;
    const read: PredictionLine = entry.ok
      ? toPredictionLine(path, entry.line, entry.value)
      : { kind: 'malformed', problems: [{ file: path, line: entry.line, field: '', message: entry.message }] };
    if (read.kind === 'malformed') {
      counts.malformed += read.problems.length;
      read.problems.forEach(report);
      continue;
    }
    const { id } = read.prediction;
    const position = positions.get(id);
    if (position === undefined) {
      counts.unknown++;
      report({ file: path, line: entry.line, field: 'id', message: `id "${id}" is not in the manifest` });
      continue;
    }
    if (firstLine[position] !== 0) {
      counts.duplicates++;
      report({ file: path, line: entry.line, field: 'id', message: `duplicate id "${id}" (line ${firstLine[position]} is used)` });
      continue;
    }
    firstLine[position] = entry.line;
    counts.used++;
    onPrediction(position, read.prediction);
  }
  return { path, ...counts, examples, problemCount: counts.malformed + counts.duplicates + counts.unknown };
}
