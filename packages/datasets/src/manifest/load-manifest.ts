import { dirname, isAbsolute, resolve } from 'node:path';
import { DifferadError, type ManifestRecord } from '@differad/core';
import { formatLineProblems, type LineProblem } from '../jsonl/line-problem.js';
import { readManifest } from './read-manifest.js';

export interface LoadedManifest {
  readonly path: string;
  /** Records in file order. */
  readonly records: readonly ManifestRecord[];
  /** Line number of each record, by id. */
  readonly lines: ReadonlyMap<string, number>;
}

/**
 * Reads and validates a whole manifest. Ground truth must be right, so any bad
 * line (not JSON, a missing or wrong field, a duplicate id) makes the manifest
 * unusable: throws `MANIFEST_INVALID` listing every problem as file:line: field.
 * An optional first-line header and per-line `version` are checked (see parseManifestLine).
 */
export async function loadManifest(path: string): Promise<LoadedManifest> {
  const records: ManifestRecord[] = [];
  const lines = new Map<string, number>();
  const problems: LineProblem[] = [];
  for await (const entry of readManifest(path)) {
    if (entry.problems !== undefined) {
      problems.push(...entry.problems);
      continue;
    }
    const { record } = entry;
    const first = lines.get(record.id);
    if (first !== undefined) {
      problems.push({ file: path, line: entry.line, field: 'id', message: `duplicate id "${record.id}" (first on line ${first})` });
      continue;
    }
    lines.set(record.id, entry.line);
    records.push(record);
  }
  if (problems.length > 0) {
    throw new DifferadError('MANIFEST_INVALID', `manifest ${path} has ${problems.length} problem(s):\n${formatLineProblems(problems)}`, {
      details: { problems },
    });
  }
  if (records.length === 0) throw new DifferadError('MANIFEST_EMPTY', `manifest ${path} holds no records`);
  return { path, records, lines };
}

/** A path from a manifest line, resolved against the manifest's folder. */
export function resolveManifestPath(manifestPath: string, entry: string): string {
  return isAbsolute(entry) ? entry : resolve(dirname(manifestPath), entry);
}
