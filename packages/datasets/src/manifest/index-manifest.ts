import { createIdIndex, DifferadError, type IdIndex, type IdLookup } from '@differad/core';
import { formatLineProblems, type LineProblem } from '../jsonl/line-problem.js';
import { readManifest } from './read-manifest.js';

/** Problems listed by MANIFEST_INVALID when a manifest is indexed; the rest are counted. */
export const MANIFEST_PROBLEM_EXAMPLES = 20;

/** The ids of a valid manifest, without its records: what joining predictions to it needs. */
export interface ManifestIndex {
  readonly path: string;
  /** Number of records. */
  readonly size: number;
  /** Position of each id among the records, 0-based, in file order. */
  readonly positions: IdLookup;
}

/** How indexManifest keeps the ids. */
export interface IndexManifestOptions {
  /** Makes the id → position index (default createIdIndex, compact and exact; bench/score compares it with a Map). */
  readonly createIndex?: () => IdIndex;
}

/**
 * Reads and validates a manifest as loadManifest does, keeping only its ids:
 * memory grows with the ids, not the records, and the problems of a bad
 * manifest are counted with the first MANIFEST_PROBLEM_EXAMPLES kept.
 * Throws `MANIFEST_INVALID` (every line numbered in the count, the first
 * listed as file:line: field) or `MANIFEST_EMPTY`.
 */
export async function indexManifest(path: string, options: IndexManifestOptions = {}): Promise<ManifestIndex> {
  const positions = (options.createIndex ?? createIdIndex)();
  // Line of each record, for the message of a later duplicate: 4 bytes a record.
  let lines = new Uint32Array(1024);
  const examples: LineProblem[] = [];
  let problemCount = 0;
  const report = (problem: LineProblem) => {
    problemCount++;
    if (examples.length < MANIFEST_PROBLEM_EXAMPLES) examples.push(problem);
  };
  for await (const entry of readManifest(path)) {
    if (entry.problems !== undefined) {
      entry.problems.forEach(report);
      continue;
    }
    const { id } = entry.record;
    const first = positions.add(id);
    if (first >= 0) {
      report({ file: path, line: entry.line, field: 'id', message: `duplicate id "${id}" (first on line ${lines[first]})` });
      continue;
    }
    if (positions.size > lines.length) {
      const grown = new Uint32Array(lines.length * 2);
      grown.set(lines);
      lines = grown;
    }
    lines[positions.size - 1] = entry.line;
  }
  if (problemCount > 0) {
    const more = problemCount - examples.length;
    const listed = formatLineProblems(examples) + (more > 0 ? `\n… and ${more} more` : '');
    throw new DifferadError('MANIFEST_INVALID', `manifest ${path} has ${problemCount} problem(s):\n${listed}`, {
      details: { problems: examples, count: problemCount },
    });
  }
  if (positions.size === 0) throw new DifferadError('MANIFEST_EMPTY', `manifest ${path} holds no records`);
  return { path, size: positions.size, positions };
}
