import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DifferadError } from '@differad/core';
import { writeFileAtomic } from '@differad/images';
import {
  decideEvalStart,
  EVAL_OUTPUT_FILES,
  EVAL_RUN_FILE,
  type EvalFolderState,
  type EvalRunInput,
  type EvalRunRecord,
  EvalRunRecordSchema,
  formatEvalStartRefusal,
  toEvalRunSettings,
} from './eval-run-record.js';

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DifferadError('OUTPUT_READ_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Streams a file's chunks; a missing file reads as none. */
async function* readChunks(path: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new DifferadError('OUTPUT_READ_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The sha256 of a file's bytes, hex; the file is streamed, never held whole. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) hash.update(chunk);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new DifferadError('OUTPUT_READ_FAILED', `cannot read ${path}: ${why}`, { cause: error });
  }
  return hash.digest('hex');
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/** Whether the file holds a non-blank line that ends with a newline (streamed up to the first such line). */
async function hasWholeLine(path: string): Promise<boolean> {
  let blank = true;
  for await (const chunk of readChunks(path)) {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (!blank) return true;
      } else if (!WHITESPACE.has(byte)) {
        blank = false;
      }
    }
  }
  return false;
}

function parseRecord(bytes: Buffer): EvalFolderState['record'] {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { kind: 'unreadable', reason: `not JSON (${(error as Error).message})` };
  }
  const parsed = EvalRunRecordSchema.safeParse(json);
  return parsed.success
    ? { kind: 'found', record: parsed.data }
    : { kind: 'unreadable', reason: `not a record of this differad (${parsed.error.issues[0]?.message ?? 'invalid'})` };
}

/** Reads what an output folder holds: its run record, and whether predictions.jsonl has a whole line (a torn one alone is no answer). */
export async function loadEvalFolderState(outDir: string): Promise<EvalFolderState> {
  const [record, hasAnswers] = await Promise.all([
    readIfPresent(join(outDir, EVAL_RUN_FILE)),
    hasWholeLine(join(outDir, 'predictions.jsonl')),
  ]);
  return { record: record === null ? { kind: 'none' } : parseRecord(record), hasAnswers };
}

/** Removes the files eval writes under `outDir` (answers first), and nothing else. */
export async function discardEvalOutputs(outDir: string): Promise<void> {
  for (const file of EVAL_OUTPUT_FILES) {
    try {
      await rm(join(outDir, file), { force: true });
    } catch (error) {
      throw new DifferadError('OUTPUT_WRITE_FAILED', `cannot remove ${join(outDir, file)}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Starts a fresh run in `outDir`: eval's old files go, then the new record is written atomically. */
export async function startEvalRun(outDir: string, record: EvalRunRecord): Promise<void> {
  await discardEvalOutputs(outDir);
  await writeFileAtomic(join(outDir, EVAL_RUN_FILE), Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8'));
}

/** What a run tells {@link settleEvalRunFolder}. */
export interface EvalRunStartInput {
  /** The answer-changing settings; the manifest is hashed here. */
  readonly settings: Omit<EvalRunInput, 'manifestSha256'>;
  /** Recorded, never compared: servers, --limit, paths as given. */
  readonly context: Record<string, unknown>;
  readonly force: boolean;
}

/**
 * Builds this run's record and decides, from what `outDir` holds, whether its
 * answers are resumed or the run starts fresh; answers of other settings
 * throw EVAL_OUTPUT_MISMATCH naming each difference, answers without a usable
 * record EVAL_OUTPUT_UNRECORDED. Writes nothing.
 */
export async function settleEvalRunFolder(
  outDir: string,
  input: EvalRunStartInput,
): Promise<{ record: EvalRunRecord; start: 'resume' | 'fresh' }> {
  const manifestSha256 = await hashFile(input.settings.manifestPath);
  const record: EvalRunRecord = {
    format: 1,
    created: new Date().toISOString(),
    settings: toEvalRunSettings({ ...input.settings, manifestSha256 }),
    context: input.context,
  };
  const start = decideEvalStart(await loadEvalFolderState(outDir), record.settings, input.force);
  if (start.kind === 'mismatch')
    throw new DifferadError('EVAL_OUTPUT_MISMATCH', formatEvalStartRefusal(start, outDir), { details: { differences: start.differences } });
  if (start.kind === 'unrecorded') throw new DifferadError('EVAL_OUTPUT_UNRECORDED', formatEvalStartRefusal(start, outDir));
  return { record, start: start.kind };
}
