import { access } from 'node:fs/promises';
import { DifferadError, type ManifestRecord } from '@differad/core';
import { formatLineProblems, type LineProblem, type LoadedManifest, resolveManifestPath } from '@differad/datasets';

/**
 * Checks that every image of the records to evaluate exists before any
 * request is sent; MANIFEST_INVALID lists each missing file as file:line: field.
 */
export async function checkPairFiles(manifest: LoadedManifest, records: readonly ManifestRecord[]): Promise<void> {
  const problems: LineProblem[] = [];
  await Promise.all(
    records.flatMap((r) =>
      (['reference', 'target'] as const).map(async (field) => {
        const path = resolveManifestPath(manifest.path, r[field]);
        try {
          await access(path);
        } catch {
          problems.push({ file: manifest.path, line: manifest.lines.get(r.id) ?? 0, field, message: `no such file: ${path}` });
        }
      }),
    ),
  );
  if (problems.length === 0) return;
  problems.sort((a, b) => a.line - b.line || (a.field < b.field ? -1 : 1));
  throw new DifferadError('MANIFEST_INVALID', `manifest ${manifest.path}: ${problems.length} image file(s) missing:\n${formatLineProblems(problems)}`, {
    details: { problems },
  });
}
