import type { ManifestRecord } from '@differad/core';
import { readJsonl } from '../jsonl/read-jsonl.js';
import type { LineProblem } from '../jsonl/line-problem.js';
import { parseManifestLine } from './parse-manifest-line.js';

/** One line of a manifest: a valid record, or what is wrong with it (the header is skipped). */
export type ManifestEntry =
  | { readonly line: number; readonly record: ManifestRecord; readonly problems?: undefined }
  | { readonly line: number; readonly record?: undefined; readonly problems: readonly LineProblem[] };

/**
 * Streams a manifest's records in file order, each validated on its own
 * (parseManifestLine; a header only as the first line). Whether ids repeat is
 * the caller's to check: it alone knows which ids it has kept.
 */
export async function* readManifest(path: string): AsyncGenerator<ManifestEntry> {
  let isFirst = true;
  for await (const entry of readJsonl(path)) {
    if (!entry.ok) {
      isFirst = false;
      yield { line: entry.line, problems: [{ file: path, line: entry.line, field: '', message: entry.message }] };
      continue;
    }
    const parsed = parseManifestLine(entry.value, isFirst);
    isFirst = false;
    if (parsed.kind === 'header') continue;
    if (parsed.kind === 'invalid')
      yield { line: entry.line, problems: parsed.problems.map((p) => ({ file: path, line: entry.line, ...p })) };
    else yield { line: entry.line, record: parsed.record };
  }
}
