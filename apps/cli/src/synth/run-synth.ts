import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { DifferadError, EMPTY_BOX, toModelFrame } from '@differad/core';
import { writeJsonlAtomically } from '@differad/datasets';
import {
  DEFAULT_SYNTHESIS_OPTIONS,
  type ForegroundMode,
  prepareReference,
  type SquareFit,
  type PreparedReference,
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
  if (files.length === 0) throw new DifferadError('SYNTH_INPUT_INVALID', `${what} folder ${dir} holds no images (${[...IMAGE_EXTENSIONS].join(', ')})`);
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

async function prepareReferences(io: CliIo, files: readonly string[], plan: Pick<SynthesisPlan, 'outDir' | 'size' | 'fit' | 'foreground'>, jobs: number) {
  const progress = createProgress(io, 'references', files.length);
  const out: PreparedReference[] = new Array(files.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      out[i] = await prepareReference(files[i]!, i, plan);
      progress.tick(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs * 2) }, worker));
  progress.finish(`${out.filter((r) => r.upscaled).length} upscaled to ${plan.size}×${plan.size} (fit ${plan.fit})`);
  return out;
}

/** Runs `differad synth`; returns the exit code (130 when interrupted, after saving what was finished). */
export async function runSynth(opts: SynthCommandOptions, io: CliIo, signal: AbortSignal): Promise<number> {
  const outDir = resolvePath(io, opts.out);
  const manifestPath = join(outDir, 'manifest.jsonl');
  if (existsSync(manifestPath) && !opts.force) {
    throw new DifferadError('OUTPUT_EXISTS', `${manifestPath} exists; pass --force to replace it`);
  }
  if (!(opts.maxRotation >= 0 && opts.maxRotation <= 45)) throw new DifferadError('SYNTH_INPUT_INVALID', `--max-rotation must be within [0, 45] degrees, got ${opts.maxRotation}`, { details: { flag: '--max-rotation' } });
  if (!(opts.brightnessJitter >= 0 && opts.brightnessJitter < 1)) throw new DifferadError('SYNTH_INPUT_INVALID', `--brightness-jitter must be within [0, 1), got ${opts.brightnessJitter}`, { details: { flag: '--brightness-jitter' } });
  const foreground = parseForegroundMode(opts.foreground, io.cwd);
  const normals = await listImageFiles(resolvePath(io, opts.normals), 'normals');
  const textures = opts.textures ? await listImageFiles(resolvePath(io, opts.textures), 'textures') : [];
  await mkdir(join(outDir, 'pairs'), { recursive: true });

  const started = performance.now();
  const base = { outDir, size: opts.size, fit: opts.fit, foreground };
  const references = await prepareReferences(io, normals, base, opts.jobs);
  const plan: SynthesisPlan = {
    ...base,
    seed: opts.seed,
    className: opts.class ?? basename(resolvePath(io, opts.normals)),
    references,
    textures,
    options: { ...DEFAULT_SYNTHESIS_OPTIONS, pNormal: opts.pNormal, maxRotationDeg: opts.maxRotation, brightnessJitter: opts.brightnessJitter },
    format: opts.format,
  };
  const pool = createPairPool(plan, opts.jobs);
  const records: (SynthRecord | undefined)[] = new Array(opts.count);
  const progress = createProgress(io, 'pairs', opts.count);
  let done = 0;
  let next = 0;
  let failure: unknown = null;
  const lane = async () => {
    while (next < opts.count && !signal.aborted && failure === null) {
      const i = next++;
      try {
        records[i] = await pool.run(i);
      } catch (error) {
        failure ??= error;
        return;
      }
      progress.tick(++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.jobs * 2) }, lane));
  } finally {
    await pool.close();
  }
  progress.finish();
  // Whatever happened, keep a valid manifest of the pairs that were finished.
  const finished = records.filter((r): r is SynthRecord => r !== undefined);
  await writeJsonlAtomically(manifestPath, finished);
  if (opts.jsonl) await writeJsonlAtomically(join(outDir, 'research.jsonl'), finished.map(toResearchLine));
  if (opts.preview) await writePreview(outDir, finished.slice(0, opts.preview));
  const normalCount = finished.filter((r) => r.box === null).length;
  const upscaled = references.filter((r) => r.upscaled).length;
  const seconds = (performance.now() - started) / 1000;
  io.stdout(
    `wrote ${finished.length} pairs (${normalCount} normal) from ${references.length} images (${upscaled} upscaled, fit ${opts.fit}) ` +
      `to ${opts.out}/manifest.jsonl in ${seconds.toFixed(1)} s\n`,
  );
  if (failure !== null) throw failure;
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
