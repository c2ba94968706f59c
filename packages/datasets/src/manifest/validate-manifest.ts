import { stat } from 'node:fs/promises';
import { createLimiter, type ImageSize, isDifferadError, type ManifestRecord } from '@differad/core';
import type { LineProblem } from '../jsonl/line-problem.js';
import { readJsonl } from '../jsonl/read-jsonl.js';
import { resolveManifestPath } from './load-manifest.js';
import { parseManifestLine } from './parse-manifest-line.js';

/** How deep `validateManifest` looks. */
export interface ValidateOptions {
  /** Reads an image's size (header only is enough); when given, every referenced file is checked. */
  readonly readSize?: (path: string) => Promise<ImageSize>;
  /** Image files checked at once (default 8). */
  readonly jobs?: number;
  /** Problems kept in the report; the count goes on (default 1000). */
  readonly maxProblems?: number;
}

/** What `validateManifest` found. A manifest is valid when `problems` is empty. */
export interface ManifestReport {
  readonly path: string;
  readonly records: number;
  /** Version from the header line, or null when the file has none. */
  readonly headerVersion: number | null;
  readonly problemCount: number;
  readonly problems: readonly LineProblem[];
  /** Not errors: for example a reference image of another size than its target. */
  readonly warnings: readonly LineProblem[];
}

type Report = (field: string, message: string, warning?: boolean) => void;

async function checkImage(
  file: string,
  readSize: (p: string) => Promise<ImageSize>,
  report: Report,
  field: string,
): Promise<ImageSize | null> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a regular file');
  } catch {
    report(field, `${file} does not exist or is not a file`);
    return null;
  }
  try {
    return await readSize(file);
  } catch (error) {
    if (!isDifferadError(error)) throw error;
    report(field, error.message);
    return null;
  }
}

async function checkFiles(path: string, r: ManifestRecord, readSize: (p: string) => Promise<ImageSize>, report: Report): Promise<void> {
  const [target, reference, mask] = await Promise.all([
    checkImage(resolveManifestPath(path, r.target), readSize, report, 'target'),
    checkImage(resolveManifestPath(path, r.reference), readSize, report, 'reference'),
    r.mask === undefined ? null : checkImage(resolveManifestPath(path, r.mask), readSize, report, 'mask'),
  ]);
  const dims = (s: ImageSize) => `${s.width}×${s.height}`;
  if (target && (target.width !== r.width || target.height !== r.height)) {
    report('width', `the target image is ${dims(target)}, the record says ${r.width}×${r.height}`);
  }
  if (mask && target && (mask.width !== target.width || mask.height !== target.height)) {
    report('mask', `the mask is ${dims(mask)}, its target ${dims(target)}`);
  }
  if (reference && target && (reference.width !== target.width || reference.height !== target.height)) {
    report('reference', `the reference is ${dims(reference)}, the target ${dims(target)}`, true);
  }
}

/**
 * Streams a manifest and reports every problem as file:line: field: message —
 * JSON, schema, version, duplicate ids, and with `readSize` also missing image
 * files and sizes that differ from `width`/`height`. Never throws for a bad
 * line; throws `DATA_FILE_UNREADABLE` when the manifest cannot be read.
 */
export async function validateManifest(path: string, options: ValidateOptions = {}): Promise<ManifestReport> {
  const maxProblems = options.maxProblems ?? 1000;
  const problems: LineProblem[] = [];
  const warnings: LineProblem[] = [];
  let problemCount = 0;
  const ids = new Map<string, number>();
  const limiter = createLimiter(options.jobs ?? 8);
  let records = 0;
  let headerVersion: number | null = null;
  let isFirst = true;
  for await (const entry of readJsonl(path)) {
    const report: Report = (field, message, warning = false) => {
      if (warning) return void (warnings.length < maxProblems && warnings.push({ file: path, line: entry.line, field, message }));
      problemCount++;
      if (problems.length < maxProblems) problems.push({ file: path, line: entry.line, field, message });
    };
    if (!entry.ok) {
      report('', entry.message);
      isFirst = false;
      continue;
    }
    const parsed = parseManifestLine(entry.value, isFirst);
    isFirst = false;
    if (parsed.kind === 'header') headerVersion = parsed.version;
    if (parsed.kind === 'invalid') for (const p of parsed.problems) report(p.field, p.message);
    if (parsed.kind !== 'record') continue;
    records++;
    const first = ids.get(parsed.record.id);
    if (first !== undefined) report('id', `duplicate id "${parsed.record.id}" (first on line ${first})`);
    else ids.set(parsed.record.id, entry.line);
    const { readSize } = options;
    if (readSize) await limiter.run(() => checkFiles(path, parsed.record, readSize, report));
  }
  await limiter.drain();
  const byLine = (a: LineProblem, b: LineProblem) => a.line - b.line;
  if (records === 0 && problemCount === 0) {
    problemCount++;
    problems.push({ file: path, line: 1, field: '', message: 'the manifest holds no records' });
  }
  return { path, records, headerVersion, problemCount, problems: problems.sort(byLine), warnings: warnings.sort(byLine) };
}
