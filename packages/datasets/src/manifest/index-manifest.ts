import { DifferadError } from '@differad/core';
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
  readonly positions: ReadonlyMap<string, number>;
}

/**
 * Reads and validates a manifest as loadManifest does, keeping only its ids:
 * memory grows with the ids, not the records, and the problems of a bad
 * manifest are counted with the first MANIFEST_PROBLEM_EXAMPLES kept.
 * Throws `MANIFEST_INVALID` (every line numbered in the count, the first
 * listed as file:line: field) or `MANIFEST_EMPTY`.
 */
export async function indexManifest(path: string): Promise<ManifestIndex> {
  const positions = new Map<string, number>();
  const lines: number[] = [];
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
    const first = positions.get(id);
    if (first !== undefined) {
      report({ file: path, line: entry.line, field: 'id', message: `duplicate id "${id}" (first on line ${lines[first]})` });
      continue;
    }
    positions.set(id, lines.length);
    lines.push(entry.line);
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
