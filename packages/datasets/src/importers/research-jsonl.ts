import { isAbsolute, relative, resolve, sep } from 'node:path';
import {
  DifferadError,
  type ManifestRecord,
  type ResearchLine,
  ResearchLineSchema,
  toFieldProblems,
  toPixelBoxFromNorm1000,
  toResearchBox,
  toResearchLine,
} from '@differad/core';
import { readJsonl } from '../jsonl/read-jsonl.js';
import { writeJsonlAtomically } from '../jsonl/write-jsonl.js';
import { loadManifest, resolveManifestPath } from '../manifest/load-manifest.js';
import type { DatasetImageOps } from './dataset-image-ops.js';
import { requireDirectory, resolveInsideRoot, toManifestPath } from './dataset-paths.js';
import {
  BadItems,
  finishImport,
  type ImportCommonOptions,
  type ImportOutput,
  type ImportResult,
  runItems,
  runStagedImport,
} from './import-run.js';

/** Options of the research-JSONL importer. */
export interface ResearchImportOptions extends ImportCommonOptions {
  /** The research code's JSONL file. */
  readonly file: string;
  /** Folder that relative `images` paths are resolved against (the research code's `image_root`). */
  readonly imageRoot: string;
}

interface Line {
  readonly line: number;
  readonly origin: string;
  readonly value: ResearchLine;
}

const CLASS_KEYS = ['class', 'category', 'cls', 'cls_name', 'clsname'] as const;

function classOf(value: ResearchLine, target: string): string {
  for (const key of CLASS_KEYS) {
    const v = value[key];
    if (typeof v === 'string' && v !== '') return v;
  }
  // The research data kept one folder per class: take the target's first folder.
  const first = target.split(/[\\/]/).find((p) => p !== '' && p !== '.');
  return first !== undefined && first !== target ? first : 'unknown';
}

async function resolveImage(root: string, entry: string): Promise<string> {
  // Absolute paths name their file explicitly; relative ones must stay inside the image root.
  return isAbsolute(entry) ? entry : resolveInsideRoot(root, entry);
}

async function toRecord<D>(
  l: Line,
  root: string,
  out: string,
  ops: DatasetImageOps<D>,
): Promise<{ wantedId: string | undefined; record: ManifestRecord }> {
  const [refEntry, tgtEntry] = l.value.images as [string, string];
  const parsed = toResearchBox(l.value.seg_gt_qwen2vl);
  if ('message' in parsed) throw new DifferadError('DATASET_ANNOTATION_INVALID', `${l.origin}: ${parsed.message}`);
  const [reference, target] = await Promise.all([resolveImage(root, refEntry), resolveImage(root, tgtEntry)]);
  const size = await ops.checkImage(target);
  await ops.checkImage(reference);
  const id = l.value.id;
  const subset = l.value.subset;
  const record: ManifestRecord = {
    id: `line-${l.line}`,
    class: classOf(l.value, tgtEntry),
    ...(typeof subset === 'string' && subset !== '' ? { subset } : {}),
    reference: toManifestPath(out, reference),
    target: toManifestPath(out, target),
    width: size.width,
    height: size.height,
    box: parsed.box === null ? null : toPixelBoxFromNorm1000(parsed.box, size),
    source_line: l.line,
  };
  return { wantedId: typeof id === 'string' && id !== '' ? id : undefined, record };
}

/** The lines of `file` that parse (bad ones go to `bad`), and how many there were in all. */
async function readLines(file: string, bad: BadItems): Promise<{ lines: Line[]; total: number }> {
  const lines: Line[] = [];
  let total = 0;
  for await (const entry of readJsonl(file)) {
    total++;
    const origin = `${file}:${entry.line}`;
    if (!entry.ok) {
      bad.add(origin, new DifferadError('DATASET_ANNOTATION_INVALID', `${origin}: ${entry.message}`));
      continue;
    }
    const parsed = ResearchLineSchema.safeParse(entry.value);
    if (!parsed.success) {
      const why = toFieldProblems(parsed.error)
        .map((p) => `${p.field}: ${p.message}`)
        .join('; ');
      bad.add(origin, new DifferadError('DATASET_ANNOTATION_INVALID', `${origin}: ${why}`));
      continue;
    }
    lines.push({ line: entry.line, origin, value: parsed.data });
  }
  return { lines, total };
}

/**
 * Imports the research code's JSONL (`images: [reference, target]`,
 * `seg_gt_qwen2vl` in norm1000): boxes go to target pixels, image sizes are
 * read from the files, and images stay where they are. Ids come from `id`
 * when present and unique, else `line-<n>`. An error leaves OUT as it was.
 */
export async function importResearchJsonl<D>(options: ResearchImportOptions, ops: DatasetImageOps<D>): Promise<ImportResult> {
  const root = await requireDirectory(options.imageRoot, 'image root');
  return runStagedImport(options, (output) => importLines(root, output, options, ops));
}

async function importLines<D>(
  root: string,
  output: ImportOutput,
  options: ResearchImportOptions,
  ops: DatasetImageOps<D>,
): Promise<ImportResult> {
  const { out } = output;
  const bad = new BadItems(options.skipBad ?? false);
  const file = resolve(options.file);
  const { lines, total } = await readLines(file, bad);
  const made = await runItems(
    lines,
    options,
    bad,
    'lines',
    (l) => l.origin,
    (l) => toRecord(l, root, out, ops),
  );
  const seen = new Set<string>();
  const records: ManifestRecord[] = [];
  for (const r of made) {
    if (r === undefined) continue;
    const id = r.wantedId !== undefined && !seen.has(r.wantedId) ? r.wantedId : r.record.id;
    seen.add(id);
    records.push({ ...r.record, id });
  }
  const boxed = lines.filter((l) => {
    const parsed = toResearchBox(l.value.seg_gt_qwen2vl);
    return 'box' in parsed && parsed.box !== null;
  }).length;
  return finishImport(output, records, bad, {}, { found: `${total} line(s) in ${file}, ${boxed} with a box`, defective: boxed });
}

/** Options of the research-JSONL export. */
export interface ResearchExportOptions {
  readonly manifest: string;
  /** Output JSONL file. */
  readonly out: string;
  /** Write image paths relative to this folder (the research code's `image_root`); absolute paths otherwise. */
  readonly imageRoot?: string;
}

/** Writes a manifest in the research code's JSONL format (atomically); returns the number of lines. */
export async function exportResearchJsonl(options: ResearchExportOptions): Promise<number> {
  const { records } = await loadManifest(options.manifest);
  const root = options.imageRoot === undefined ? undefined : resolve(options.imageRoot);
  const place = (entry: string) => {
    const abs = resolveManifestPath(resolve(options.manifest), entry);
    return root === undefined ? abs : relative(root, abs).split(sep).join('/');
  };
  return writeJsonlAtomically(
    resolve(options.out),
    records.map((r) => toResearchLine(r, { reference: place(r.reference), target: place(r.target) })),
  );
}
