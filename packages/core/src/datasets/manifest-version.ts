import { z } from 'zod';

/** The manifest format version this code writes (`"version": 1` on every line). */
export const MANIFEST_VERSION = 1;

/** Versions this code reads. A record without `version` is read as version 1. */
export const SUPPORTED_MANIFEST_VERSIONS: readonly number[] = [1];

/**
 * An optional first line of a manifest that declares the version for the whole
 * file: `{"kind":"differad-manifest","version":1}`. It holds no `id`, so no
 * record can be mistaken for it.
 */
export const ManifestHeaderSchema = z.looseObject({
  kind: z.literal('differad-manifest'),
  version: z.number().int().positive(),
});
export type ManifestHeader = z.infer<typeof ManifestHeaderSchema>;

/** True when a parsed first line is a manifest header rather than a record. */
export function isManifestHeader(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'differad-manifest';
}

/** Why `version` (a line's own, or the header's) cannot be read by this code, or null when it can. */
export function checkManifestVersion(version: unknown): string | null {
  if (version === undefined) return null;
  if (typeof version !== 'number' || !Number.isInteger(version)) return `version must be an integer, got ${JSON.stringify(version)}`;
  if (!SUPPORTED_MANIFEST_VERSIONS.includes(version)) {
    return `manifest version ${version} is not supported (this differad reads ${SUPPORTED_MANIFEST_VERSIONS.join(', ')})`;
  }
  return null;
}
