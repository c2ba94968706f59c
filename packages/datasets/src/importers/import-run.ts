import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DifferadError, isDifferadError, type ManifestRecord, mapBounded } from '@differad/core';
import { writeManifest } from '../manifest/manifest-writer.js';
import { withStagedOutput } from './staged-output.js';

/** Reports progress of one phase of an import: `done` of `total` items. */
export type ImportProgress = (phase: string, done: number, total: number) => void;

/** Options every importer takes. */
export interface ImportCommonOptions {
  /** Output folder: receives manifest.jsonl and derived images. */
  readonly out: string;
  /** Items decoded at once (default 4). */
  readonly jobs?: number;
  /** Skip bad items and list them instead of stopping at the first one. */
  readonly skipBad?: boolean;
  /** Replace an existing OUT/manifest.jsonl. */
  readonly force?: boolean;
  readonly onProgress?: ImportProgress;
}

/** An item an import could not use, and why. */
export interface BadItem {
  /** The file (or folder) at fault. */
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

/** What an import did. */
export interface ImportResult {
  readonly manifest: string;
  readonly records: number;
  readonly anomalous: number;
  readonly normal: number;
  /** Items skipped with `skipBad`. */
  readonly skipped: readonly BadItem[];
  /** Importer-specific counts (for example DeepPCB defects without a window of their own). */
  readonly details: Readonly<Record<string, number>>;
}

/** Where an import writes. */
export interface ImportOutput {
  /** The output folder: manifest paths are relative to it. */
  readonly out: string;
  /** OUT/manifest.jsonl, as reported. */
  readonly manifest: string;
  /** The staging folder inside OUT that every file goes to until the import has succeeded. */
  readonly staging: string;
}

/**
 * Refuses to overwrite OUT/manifest.jsonl without `force`, then runs `fn`
 * against a staging folder whose files go into OUT only when `fn` succeeds:
 * an import that fails leaves OUT as it was.
 */
export async function runStagedImport(
  options: ImportCommonOptions,
  fn: (output: ImportOutput) => Promise<ImportResult>,
): Promise<ImportResult> {
  const out = resolve(options.out);
  const manifest = join(out, 'manifest.jsonl');
  if (existsSync(manifest) && !options.force) {
    throw new DifferadError('OUTPUT_EXISTS', `${manifest} exists; pass --force to replace it`);
  }
  return withStagedOutput(out, (staging) => fn({ out, manifest, staging }));
}

/** Where a file that belongs at `rel` (relative to OUT, `/`-separated) is written during the import. */
export function toStagedPath(output: ImportOutput, rel: string): string {
  return join(output.staging, ...rel.split('/'));
}

/** Collects bad items, or rethrows at the first one when skipping is off. */
export class BadItems {
  readonly items: BadItem[] = [];
  constructor(private readonly skip: boolean) {}

  /** Records `error` for `file` when skipping; rethrows otherwise (and always for non-DifferadErrors: bugs). */
  add(file: string, error: unknown): void {
    if (!this.skip || !isDifferadError(error)) throw error;
    const named = error.message.includes(file) ? error.message : `${file}: ${error.message}`;
    this.items.push({ file, code: error.code, message: named });
  }
}

/**
 * Runs `fn` over `items` with bounded concurrency. A failing item becomes a
 * bad item (result `undefined`) with `skipBad`, or stops the whole import.
 */
export async function runItems<T, R>(
  items: readonly T[],
  options: ImportCommonOptions,
  bad: BadItems,
  phase: string,
  fileOf: (item: T) => string,
  fn: (item: T) => Promise<R>,
): Promise<(R | undefined)[]> {
  const progress = options.onProgress;
  return mapBounded(
    items,
    options.jobs ?? 4,
    async (item) => {
      try {
        return await fn(item);
      } catch (error) {
        bad.add(fileOf(item), error);
        return undefined;
      }
    },
    { onSettled: progress ? (done, total) => progress(phase, done, total) : undefined },
  );
}

/** What an importer found in its source: the words for the error when nothing usable came of it. */
export interface SourceTally {
  /** For example "105 pair(s) with 675 defect(s)". */
  readonly found: string;
  /** Items of the source that carry a defect: an import that keeps none of them fails. */
  readonly defective: number;
  /** Why found items made no record, with what to do about it (importer-specific). */
  readonly reasons?: readonly string[];
}

function explain(tally: SourceTally, bad: BadItems): string {
  const skipped = bad.items.length > 0 ? [`${bad.items.length} item(s) were skipped, the first: ${bad.items[0]?.message}`] : [];
  return [`found ${tally.found}`, ...(tally.reasons ?? []), ...skipped].join('; ');
}

/**
 * Writes the manifest of an import into its staging folder and summarizes it. An import
 * that produced no record is an error (`DATASET_EMPTY`), and so is one that
 * produced only normal records from a source with defects
 * (`DATASET_NO_ANOMALOUS`): both say what was found and why none of it was
 * usable, and write nothing.
 */
export async function finishImport(
  output: ImportOutput,
  records: readonly ManifestRecord[],
  bad: BadItems,
  details: Record<string, number>,
  tally: SourceTally,
): Promise<ImportResult> {
  const { manifest } = output;
  if (records.length === 0) {
    throw new DifferadError('DATASET_EMPTY', `the import produced no records, so ${manifest} was not written: ${explain(tally, bad)}`);
  }
  const anomalous = records.filter((r) => r.box !== null).length;
  if (anomalous === 0 && tally.defective > 0) {
    throw new DifferadError(
      'DATASET_NO_ANOMALOUS',
      `the import produced ${records.length} normal record(s) but no anomalous one, so ${manifest} was not written: ${explain(tally, bad)}`,
    );
  }
  await writeManifest(join(output.staging, 'manifest.jsonl'), records);
  return { manifest: output.manifest, records: records.length, anomalous, normal: records.length - anomalous, skipped: bad.items, details };
}
