import { access, readFile } from 'node:fs/promises';
import { DifferadError, type ManifestRecord, parsePromptPool, type PromptPool } from '@differad/core';
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

/** Reads a `--prompts` file: a JSON array of instruction strings (PROMPTS_INVALID otherwise). */
export async function loadPromptPool(path: string): Promise<PromptPool> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DifferadError('PROMPTS_INVALID', `cannot read the prompt pool ${path}: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new DifferadError('PROMPTS_INVALID', `prompt pool ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parsePromptPool(json, path);
}
