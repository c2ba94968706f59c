import { isAbsolute, relative, resolve } from 'node:path';
import { DifferadError, fromParamRecord, isDifferadError, GaussianPolicySchema, toParamRecord } from '@differad/core';
import { RunIdSchema, StepSchema, WeightVersionSchema } from '@differad/trainer-client';
import { z } from 'zod';
import type { TrainingSnapshot } from '../training/training-state.js';
import { openConfinedFile } from './confined-files.js';

const ParamPairSchema = z.strictObject({ mean: z.number(), logStd: z.number() });

/** A CPU trainer checkpoint file (JSON): weights, frozen reference, Adam state and position. */
export const CpuCheckpointSchema = z.strictObject({
  format: z.literal('differad-cpu-trainer-checkpoint'),
  format_version: z.literal(1),
  run: RunIdSchema,
  step: StepSchema,
  weight_version: WeightVersionSchema,
  policy: GaussianPolicySchema,
  reference: GaussianPolicySchema,
  adam: z.strictObject({ t: z.number().int().min(0), m: z.record(z.string(), ParamPairSchema), v: z.record(z.string(), ParamPairSchema) }),
});
export type CpuCheckpoint = z.infer<typeof CpuCheckpointSchema>;

/** A snapshot as the checkpoint file's JSON. */
export function toCheckpoint(s: TrainingSnapshot): CpuCheckpoint {
  return {
    format: 'differad-cpu-trainer-checkpoint',
    format_version: 1,
    run: s.run,
    step: s.step,
    weight_version: s.weightVersion,
    policy: s.policy,
    reference: s.reference,
    adam: { t: s.adam.t, m: toParamRecord(s.policy, s.adam.m), v: toParamRecord(s.policy, s.adam.v) },
  };
}

/** The snapshot a checkpoint holds; a RangeError when its parts name different parameters. */
export function fromCheckpoint(c: CpuCheckpoint): TrainingSnapshot {
  const names = Object.keys(c.policy.params).join(',');
  if (Object.keys(c.reference.params).join(',') !== names) throw new RangeError('reference and policy have different parameters');
  return {
    run: c.run,
    step: c.step,
    weightVersion: c.weight_version,
    policy: c.policy,
    reference: c.reference,
    adam: { t: c.adam.t, m: fromParamRecord(c.policy, c.adam.m), v: fromParamRecord(c.policy, c.adam.v) },
  };
}

/**
 * The longest file or folder name a client may give, in UTF-8 bytes: the
 * usual 255 (ext4, xfs) less room for the `.<random>.tmp` suffix of the
 * atomic writes, so a name that passes here cannot fail at the file system
 * (ENAMETOOLONG would otherwise be a 500).
 */
export const MAX_PATH_NAME_BYTES = 200;

/** Why the file system would refuse `path` (a NUL byte, a name over {@link MAX_PATH_NAME_BYTES}), or null. */
export function toUnusablePathReason(path: string): string | null {
  if (path.includes('\0')) return 'must not contain a NUL character';
  const long = path.split('/').find((name) => Buffer.byteLength(name, 'utf8') > MAX_PATH_NAME_BYTES);
  return long === undefined ? null : `has a name longer than ${MAX_PATH_NAME_BYTES} bytes: ${long.slice(0, 40)}…`;
}

/**
 * `path` resolved under `dir` (relative paths are taken from `dir`); a path
 * outside `dir` is a bad request naming `field`, so a client cannot make the
 * trainer write or read anywhere else.
 */
export function resolveInside(dir: string, path: string, field: string): string {
  const unusable = toUnusablePathReason(path);
  if (unusable !== null) {
    throw new DifferadError('TRAINER_REQUEST_INVALID', `${field} ${unusable}`, { details: { fields: [{ field, message: unusable }] } });
  }
  const full = resolve(dir, path);
  const rel = relative(dir, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new DifferadError('TRAINER_REQUEST_INVALID', `${field} must be a file inside ${dir}: ${path}`, {
      details: { fields: [{ field, message: `must be a file inside ${dir}` }] },
    });
  }
  return full;
}

/**
 * Reads the checkpoint at `path` inside `root` (never through a symbolic
 * link, see openConfinedFile): TRAINER_CHECKPOINT_NOT_FOUND when missing,
 * TRAINER_CHECKPOINT_INVALID when unreadable.
 */
export async function loadCheckpointFile(root: string, path: string): Promise<TrainingSnapshot> {
  let text: string;
  try {
    const handle = await openConfinedFile(root, path, 'path');
    try {
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (cause) {
    if (isDifferadError(cause)) throw cause;
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DifferadError('TRAINER_CHECKPOINT_NOT_FOUND', `no checkpoint at ${path}`, { cause, details: { path } });
    }
    throw new DifferadError('TRAINER_CHECKPOINT_INVALID', `cannot read ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
  try {
    return fromCheckpoint(CpuCheckpointSchema.parse(JSON.parse(text)));
  } catch (cause) {
    const message = cause instanceof z.ZodError ? z.prettifyError(cause) : (cause as Error).message;
    throw new DifferadError('TRAINER_CHECKPOINT_INVALID', `${path} is not a CPU trainer checkpoint: ${message}`, {
      cause,
      details: { path },
    });
  }
}
