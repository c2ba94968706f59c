import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { DifferadError, EMPTY_BOX, mapBounded, toModelFrame } from '@differad/core';
import { createStagedOutput, writeJsonlAtomically } from '@differad/datasets';
import {
  DEFAULT_SYNTHESIS_OPTIONS,
  type ForegroundMode,
  prepareReference,
  type SquareFit,
  type SynthesisPlan,
  type SynthRecord,
  type ContactTile,
  writeContactSheet,
} from '@differad/images';
import { type CliIo, resolvePath } from '../cli-io.js';
import { createProgress } from '../output/progress.js';
import { createPairPool } from './pair-pool.js';

export interface SynthCommandOptions {
  normals: string;
  out: string;
  textures?: string;
  count: number;
  pNormal: number;
  size: number;
  fit: SquareFit;
  seed: string;
  jobs: number;
  foreground: string;
  format: 'png' | 'jpeg';
  maxRotation: number;
  brightnessJitter: number;
  class?: string;
  jsonl?: boolean;
  preview?: number;
  force?: boolean;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']);

/** Image files under `dir` (recursive), sorted so the order never depends on the file system. */
export async function listImageFiles(dir: string, what: string): Promise<string[]> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new DifferadError('SYNTH_INPUT_INVALID', `${what} folder ${dir} does not exist or is not a folder`);
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  if (files.length === 0)
    throw new DifferadError('SYNTH_INPUT_INVALID', `${what} folder ${dir} holds no images (${[...IMAGE_EXTENSIONS].join(', ')})`);
  return files;
}

/** The forms `--foreground` takes. */
export const FOREGROUND_CHOICES = ['otsu', 'none', 'masks:DIR'] as const;

/** Whether `value` is one of FOREGROUND_CHOICES (`masks:` with a folder). */
export function isForegroundMode(value: string): boolean {
  return value === 'otsu' || value === 'none' || (value.startsWith('masks:') && value.length > 'masks:'.length);
}

/** `otsu`, `none` or `masks:DIR`. */
export function parseForegroundMode(value: string, cwd: string): ForegroundMode {
  if (value === 'otsu' || value === 'none') return { kind: value };
  if (isForegroundMode(value)) return { kind: 'masks', dir: resolvePath({ cwd }, value.slice('masks:'.length)) };
  throw new DifferadError('SYNTH_INPUT_INVALID', `--foreground must be one of ${FOREGROUND_CHOICES.join(', ')}, got "${value}"`);
}

async function prepareReferences(
  io: CliIo,
  files: readonly string[],
  plan: Pick<SynthesisPlan, 'outDir' | 'size' | 'fit' | 'foreground'>,
  jobs: number,
) {
  const progress = createProgress(io, 'references', files.length);
  // The first failure stops new work and is rethrown once the images in hand are written, so none lands after the cleanup.
  const out = await mapBounded(files, Math.max(1, jobs * 2), (file, i) => prepareReference(file, i, plan), {
    onSettled: (done) => progress.tick(done),
  });
  progress.finish(`${out.filter((r) => r.upscaled).length} upscaled to ${plan.size}×${plan.size} (fit ${plan.fit})`);
  return out;
}

/** Makes the pairs of `plan`; stops early when `signal` aborts, and throws the first failure once every pair in hand is done. */
async function makePairs(io: CliIo, plan: SynthesisPlan, opts: SynthCommandOptions, signal: AbortSignal): Promise<SynthRecord[]> {
  const pool = createPairPool(plan, opts.jobs);
  const progress = createProgress(io, 'pairs', opts.count);
  const indexes = Array.from({ length: opts.count }, (_, i) => i);
  let records: (SynthRecord | undefined)[];
  try {
    records = await mapBounded(indexes, Math.max(1, opts.jobs * 2), (i) => pool.run(i), {
      onSettled: (done) => progress.tick(done),
      signal,
    });
  } finally {
    await pool.close();
  }
  progress.finish();
  return records.filter((r): r is SynthRecord => r !== undefined);
}

interface SynthInputs {
  readonly foreground: ForegroundMode;
  readonly normals: readonly string[];
  readonly textures: readonly string[];
}

/** Writes references, pairs, the manifest and the extras into `dir`; returns the finished pairs. */
async function synthesizeInto(dir: string, inputs: SynthInputs, opts: SynthCommandOptions, io: CliIo, signal: AbortSignal) {
  const base = { outDir: dir, size: opts.size, fit: opts.fit, foreground: inputs.foreground };
  const references = await prepareReferences(io, inputs.normals, base, opts.jobs);
  const plan: SynthesisPlan = {
    ...base,
    seed: opts.seed,
    className: opts.class ?? basename(resolvePath(io, opts.normals)),
    references,
    textures: [...inputs.textures],
    options: {
      ...DEFAULT_SYNTHESIS_OPTIONS,
      pNormal: opts.pNormal,
      maxRotationDeg: opts.maxRotation,
      brightnessJitter: opts.brightnessJitter,
    },
    format: opts.format,
  };
  const finished = await makePairs(io, plan, opts, signal);
  await writeJsonlAtomically(join(dir, 'manifest.jsonl'), finished);
  if (opts.jsonl) await writeJsonlAtomically(join(dir, 'research.jsonl'), finished.map(toResearchLine));
  if (opts.preview) await writePreview(dir, finished.slice(0, opts.preview));
  return { finished, references };
}

/**
 * Runs `differad synth`; returns the exit code. Everything is written to a
 * staging folder inside --out and moved into place at the end, so an error
 * leaves --out as it was; Ctrl-C keeps the finished pairs with their manifest
 * and returns 130.
 */
export async function runSynth(opts: SynthCommandOptions, io: CliIo, signal: AbortSignal): Promise<number> {
  const outDir = resolvePath(io, opts.out);
  const manifestPath = join(outDir, 'manifest.jsonl');
  if (existsSync(manifestPath) && !opts.force) {
    throw new DifferadError('OUTPUT_EXISTS', `${manifestPath} exists; pass --force to replace it`);
  }
  if (!(opts.maxRotation >= 0 && opts.maxRotation <= 45))
    throw new DifferadError('SYNTH_INPUT_INVALID', `--max-rotation must be within [0, 45] degrees, got ${opts.maxRotation}`, {
      details: { flag: '--max-rotation' },
    });
  if (!(opts.brightnessJitter >= 0 && opts.brightnessJitter < 1))
    throw new DifferadError('SYNTH_INPUT_INVALID', `--brightness-jitter must be within [0, 1), got ${opts.brightnessJitter}`, {
      details: { flag: '--brightness-jitter' },
    });
  const foreground = parseForegroundMode(opts.foreground, io.cwd);
  const normals = await listImageFiles(resolvePath(io, opts.normals), 'normals');
  const textures = opts.textures ? await listImageFiles(resolvePath(io, opts.textures), 'textures') : [];

  const started = performance.now();
  const staged = await createStagedOutput(outDir);
  let made: Awaited<ReturnType<typeof synthesizeInto>>;
  try {
    made = await synthesizeInto(staged.dir, { foreground, normals, textures }, opts, io, signal);
  } catch (error) {
    await staged.discard();
    throw error;
  }
  await staged.commit();
  const { finished, references } = made;
  const normalCount = finished.filter((r) => r.box === null).length;
  const upscaled = references.filter((r) => r.upscaled).length;
  const seconds = (performance.now() - started) / 1000;
  io.stdout(
    `wrote ${finished.length} pairs (${normalCount} normal) from ${references.length} images (${upscaled} upscaled, fit ${opts.fit}) ` +
      `to ${opts.out}/manifest.jsonl in ${seconds.toFixed(1)} s\n`,
  );
  if (signal.aborted) {
    io.stderr(`interrupted: ${finished.length} of ${opts.count} pairs finished and listed in the manifest\n`);
    return 130;
  }
  return 0;
}

/** A contact sheet, one row per pair: reference | target | mask | target with the box. */
async function writePreview(outDir: string, records: readonly SynthRecord[]): Promise<void> {
  const tiles: ContactTile[] = records.flatMap((r) => [
    { image: join(outDir, r.reference), caption: `${r.id} reference` },
    { image: join(outDir, r.target), caption: r.box === null ? 'target (normal)' : 'target' },
    r.mask ? { image: join(outDir, r.mask), caption: 'mask' } : { image: join(outDir, r.reference), caption: 'no mask (normal)' },
    { image: join(outDir, r.target), caption: 'box', boxes: r.box === null ? [] : [{ box: r.box, kind: 'gt' as const, label: 'box' }] },
  ]);
  if (tiles.length > 0) await writeContactSheet(tiles, join(outDir, 'preview.png'), { columns: 4, tileWidth: 192, tileHeight: 192 });
}

/** The research code's JSONL line: images [reference, target] and the box in norm1000. */
function toResearchLine(r: SynthRecord) {
  const box = r.box === null ? EMPTY_BOX : toModelFrame(r.box, 'norm1000', { width: r.width, height: r.height });
  return { id: r.id, images: [r.reference, r.target], seg_gt_qwen2vl: box, class: r.class };
}
