import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ManifestRecord } from '@differad/core';

/** `path` (relative to `from`, or absolute) as a manifest line in `to` writes it; absolute paths stay as they are. */
function rebasePath(path: string, from: string, to: string): string {
  if (isAbsolute(path)) return path;
  return relative(to, resolve(from, path)).split(sep).join('/');
}

function rebaseObject(value: unknown, keys: readonly string[], move: (p: string) => string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of keys) if (typeof out[key] === 'string') out[key] = move(out[key]);
  return out;
}

/**
 * A record moved from a manifest in folder `from` to one in folder `to`: the
 * paths manifests hold relative to their folder (reference, target, mask,
 * reference_resized.from, references_topk[].path, source.reference and
 * source.target) are rewritten so that they name the same files.
 */
export function rebaseManifestRecord(record: ManifestRecord, from: string, to: string): ManifestRecord {
  if (resolve(from) === resolve(to)) return record;
  const move = (p: string) => rebasePath(p, from, to);
  const out: Record<string, unknown> = { ...record, reference: move(record.reference), target: move(record.target) };
  if (record.mask !== undefined) out.mask = move(record.mask);
  if (record.reference_resized !== undefined) out.reference_resized = rebaseObject(record.reference_resized, ['from'], move);
  if ('source' in record) out.source = rebaseObject(record.source, ['reference', 'target'], move);
  if (Array.isArray(record.references_topk))
    out.references_topk = record.references_topk.map((r: unknown) => rebaseObject(r, ['path'], move));
  return out as ManifestRecord;
}
