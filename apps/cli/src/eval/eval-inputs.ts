import { access } from 'node:fs/promises';
import { DifferadError, type ManifestRecord } from '@differad/core';
import { formatLineProblems, type LineProblem, type LoadedManifest, readManifest, resolveManifestPath } from '@differad/datasets';

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
  throw new DifferadError(
    'MANIFEST_INVALID',
    `manifest ${manifest.path}: ${problems.length} image file(s) missing:\n${formatLineProblems(problems)}`,
    {
      details: { problems },
    },
  );
}

/** Records whose files are checked at once by {@link checkManifestPairFiles}. */
const CHECK_BATCH = 64;
/** Missing files listed by {@link checkManifestPairFiles}; the rest are counted. */
const MISSING_SHOWN = 50;

/**
 * checkPairFiles for the first `limit` records of a valid manifest, streamed
 * from the file in batches: memory does not grow with the manifest. Lists the
 * first MISSING_SHOWN missing files as file:line: field and counts the rest.
 */
export async function checkManifestPairFiles(manifestPath: string, limit: number): Promise<void> {
  const problems: LineProblem[] = [];
  let count = 0;
  let batch: { line: number; record: ManifestRecord }[] = [];
  const checkBatch = async () => {
    const found = await Promise.all(
      batch.flatMap(({ line, record }) =>
        (['reference', 'target'] as const).map(async (field): Promise<LineProblem | null> => {
          const path = resolveManifestPath(manifestPath, record[field]);
          return access(path).then(
            () => null,
            () => ({ file: manifestPath, line, field, message: `no such file: ${path}` }),
          );
        }),
      ),
    );
    for (const problem of found) {
      if (problem === null) continue;
      count++;
      if (problems.length < MISSING_SHOWN) problems.push(problem);
    }
    batch = [];
  };
  let seen = 0;
  for await (const entry of readManifest(manifestPath)) {
    if (seen >= limit) break;
    if (entry.record === undefined) continue;
    seen++;
    batch.push({ line: entry.line, record: entry.record });
    if (batch.length >= CHECK_BATCH) await checkBatch();
  }
  await checkBatch();
  if (count === 0) return;
  const more = count > problems.length ? `\n… and ${count - problems.length} more` : '';
  throw new DifferadError(
    'MANIFEST_INVALID',
    `manifest ${manifestPath}: ${count} image file(s) missing:\n${formatLineProblems(problems)}${more}`,
    {
      details: { problems, count },
    },
  );
}
