import { availableParallelism } from 'node:os';
import { computeDatasetStats, DifferadError } from '@differad/core';
import { formatLineProblems, loadManifest, validateManifest } from '@differad/datasets';
import { decodeImage, readImageSize } from '@differad/images';
import type { Command } from 'commander';
import { type CliIo, parseIntegerOption, resolvePath } from '../cli-io.js';
import { helpText } from '../help-text.js';
import { parseBoundedInteger } from '../data/bounded-integer.js';
import { writePreviewSheets } from '../data/preview-sheets.js';
import { formatDatasetStats } from '../data/stats-format.js';

const DEFAULT_JOBS = Math.max(1, Math.min(8, availableParallelism()));
const exitCodes = '\n\nExit codes: 0 done; 1 wrong usage; 2 unusable input (invalid manifest, unreadable file).';

interface ValidateFlags {
  files: boolean;
  decode?: boolean;
  jobs: number;
  json?: boolean;
}

/** Header-only size reads, or full decodes (which also catch truncated pixel data) with --decode. */
function sizeReader(f: ValidateFlags) {
  if (!f.files) return undefined;
  if (!f.decode) return (p: string) => readImageSize(p);
  return async (p: string) => {
    const image = await decodeImage(p, { channels: 1 });
    return { width: image.width, height: image.height };
  };
}

async function runValidate(io: CliIo, file: string, f: ValidateFlags): Promise<number> {
  const path = resolvePath(io, file);
  const report = await validateManifest(path, { readSize: sizeReader(f), jobs: f.jobs });
  if (f.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  if (report.warnings.length > 0) io.stderr(`warning: ${report.warnings.length} warning(s):\n${formatLineProblems(report.warnings)}\n`);
  if (report.problemCount > 0) {
    const shown = report.problems.length < report.problemCount ? ` (first ${report.problems.length} kept)` : '';
    throw new DifferadError(
      'MANIFEST_INVALID',
      `manifest ${path} has ${report.problemCount} problem(s)${shown}:\n${formatLineProblems(report.problems)}`,
    );
  }
  if (!f.json)
    io.stdout(
      `${path}: ${report.records} record(s) valid${f.files ? ', every image present with the recorded size' : ' (files not checked)'}\n`,
    );
  return 0;
}

function registerValidate(data: Command, io: CliIo): void {
  data
    .command('validate')
    .summary('check a manifest: schema, versions, duplicate ids, image files and sizes')
    .description(
      'Streams the manifest and lists every problem as file:line: field: message. Also checks that every reference, target and mask file exists and that the target (and mask) size matches width/height. A reference of another size than its target is a warning.',
    )
    .argument('<manifest>', 'manifest JSONL')
    .option('--no-files', 'check the lines only, not the image files')
    .option('--decode', 'decode every image fully (also finds truncated or corrupt pixel data; slower)')
    .option('--jobs <n>', 'image headers read in parallel', parseIntegerOption('--jobs'), DEFAULT_JOBS)
    .option('--json', 'print the report as one JSON object')
    .addHelpText('after', helpText(`\nExample:\n  differad data validate data/deeppcb/manifest.jsonl${exitCodes}`))
    .action(async (file: string, f: ValidateFlags) => {
      io.setExitCode(await runValidate(io, file, f));
    });
}

function registerStats(data: Command, io: CliIo): void {
  data
    .command('stats')
    .summary('counts per class and subset, normal share, image and box sizes')
    .argument('<manifest>', 'manifest JSONL')
    .option('--json', 'print the statistics as one JSON object')
    .addHelpText('after', helpText(`\nExample:\n  differad data stats data/deeppcb/manifest.jsonl --json${exitCodes}`))
    .action(async (file: string, f: { json?: boolean }) => {
      const manifest = await loadManifest(resolvePath(io, file));
      const stats = computeDatasetStats(manifest.records);
      io.stdout(f.json ? `${JSON.stringify({ manifest: manifest.path, ...stats }, null, 2)}\n` : formatDatasetStats(manifest.path, stats));
      io.setExitCode(0);
    });
}

interface PreviewFlags {
  out: string;
  perSheet: number;
  size: number;
  columns: number;
  limit?: number;
  class?: string;
  jobs: number;
}

function registerPreview(data: Command, io: CliIo): void {
  data
    .command('preview')
    .summary('contact sheets of the pairs with their ground-truth boxes')
    .description(
      'Writes OUT/sheet-001.png, …: reference | target per tile, the ground-truth box in green on the target, "id · class" underneath (normal samples say so).',
    )
    .argument('<manifest>', 'manifest JSONL')
    .requiredOption('--out <dir>', 'folder for the sheets')
    // Bounded so that a sheet stays under ~140 megapixels: 8 columns × 8 rows of two 1024-pixel images.
    .option('--per-sheet <n>', 'pairs per sheet (1–64)', parseBoundedInteger('--per-sheet', 1, 64), 24)
    .option('--columns <n>', 'tiles per row (1–8)', parseBoundedInteger('--columns', 1, 8), 4)
    .option('--size <px>', 'side each image is fitted into (32–1024)', parseBoundedInteger('--size', 32, 1024), 192)
    .option('--limit <n>', 'preview only the first n records (after --class)', parseIntegerOption('--limit'))
    .option('--class <name>', 'only records of this class')
    .option('--jobs <n>', 'images decoded in parallel', parseIntegerOption('--jobs'), DEFAULT_JOBS)
    .addHelpText('after', helpText(`\nExample:\n  differad data preview data/deeppcb/manifest.jsonl --out previews --limit 48${exitCodes}`))
    .action(async (file: string, f: PreviewFlags) => {
      const manifest = await loadManifest(resolvePath(io, file));
      let records = manifest.records.filter((r) => f.class === undefined || r.class === f.class);
      if (f.limit !== undefined) records = records.slice(0, f.limit);
      if (records.length === 0)
        throw new DifferadError(
          'PREVIEW_EMPTY',
          `no record of ${manifest.path} matches${f.class === undefined ? '' : ` class "${f.class}"`}`,
        );
      const sheets = await writePreviewSheets(manifest.path, records, resolvePath(io, f.out), f);
      io.stdout(`wrote ${sheets.length} sheet(s) of ${records.length} pair(s) to ${resolvePath(io, f.out)}\n`);
      io.setExitCode(0);
    });
}

/** Registers `differad data validate | stats | preview` under `data`. */
export function registerDataInspectCommands(data: Command, io: CliIo): void {
  registerValidate(data, io);
  registerStats(data, io);
  registerPreview(data, io);
}
