import {
  checkManifestVersion,
  isManifestHeader,
  type FieldProblem,
  type ManifestRecord,
  ManifestHeaderSchema,
  ManifestRecordSchema,
  toFieldProblems,
} from '@differad/core';

/** What one parsed manifest line turned out to be. */
export type ManifestLine =
  | { readonly kind: 'header'; readonly version: number }
  | { readonly kind: 'record'; readonly record: ManifestRecord }
  | { readonly kind: 'invalid'; readonly problems: readonly FieldProblem[] };

/**
 * Classifies one JSON value of a manifest. The first line may be a header
 * `{"kind":"differad-manifest","version":1}` declaring the version of the file;
 * any record may carry its own `version`. A version this code cannot read is a
 * problem on that line, so a future manifest is never misread silently.
 */
export function parseManifestLine(value: unknown, isFirst: boolean): ManifestLine {
  if (isManifestHeader(value)) {
    if (!isFirst) return { kind: 'invalid', problems: [{ field: 'kind', message: 'a manifest header may only be the first line' }] };
    const header = ManifestHeaderSchema.safeParse(value);
    if (!header.success) return { kind: 'invalid', problems: toFieldProblems(header.error) };
    const versionProblem = checkManifestVersion(header.data.version);
    if (versionProblem !== null) return { kind: 'invalid', problems: [{ field: 'version', message: versionProblem }] };
    return { kind: 'header', version: header.data.version };
  }
  const version = typeof value === 'object' && value !== null ? (value as { version?: unknown }).version : undefined;
  const versionProblem = checkManifestVersion(version);
  const parsed = ManifestRecordSchema.safeParse(value);
  const problems = [...(versionProblem === null ? [] : [{ field: 'version', message: versionProblem }])];
  if (!parsed.success) problems.push(...toFieldProblems(parsed.error));
  if (problems.length > 0 || !parsed.success) return { kind: 'invalid', problems };
  return { kind: 'record', record: parsed.data };
}
