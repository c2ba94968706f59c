// Whether the compiled CLI in apps/cli/dist may run: it exists, and no source
// file it was built from changed since. The build lists its inputs
// (repository-relative) in dist/build-inputs.json; a new file only matters once
// an existing one imports it, and that one is then newer than the build.
import { readFileSync, statSync } from 'node:fs';

/** The repository root. */
export const ROOT = new URL('../../../', import.meta.url);
/** The compiled CLI's folder. */
export const DIST = new URL('../dist/', import.meta.url);
/** The file in DIST that lists the build's inputs and start time. */
export const BUILD_INPUTS = 'build-inputs.json';

/**
 * `fresh`, `missing` (never built, or built elsewhere), or `stale` with the
 * first input that changed (or vanished) after the build started.
 * @returns {{ kind: 'fresh' } | { kind: 'missing' } | { kind: 'stale', file: string }}
 */
export function checkDist() {
  /** @type {{ startedAtMs: number, inputs: string[] }} */
  let build;
  try {
    build = JSON.parse(readFileSync(new URL(BUILD_INPUTS, DIST), 'utf8'));
  } catch {
    return { kind: 'missing' };
  }
  for (const file of build.inputs) {
    const stat = statSync(new URL(file, ROOT), { throwIfNoEntry: false });
    if (stat === undefined || stat.mtimeMs > build.startedAtMs) return { kind: 'stale', file };
  }
  return { kind: 'fresh' };
}
