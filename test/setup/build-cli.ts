import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD = fileURLToPath(new URL('../../apps/cli/scripts/build.mjs', import.meta.url));

/**
 * Vitest global setup: brings apps/cli/dist up to date once, before any test
 * file runs, so the e2e tests start the compiled `differad` (the bin runs it
 * only when it is as new as the sources, the TypeScript sources otherwise).
 * A failed build (a file half-edited) fails no test: the bin then runs the sources.
 */
export default function buildCli(): void {
  try {
    execFileSync(process.execPath, [BUILD, '--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    console.warn('apps/cli/dist could not be built: the tests that start differad run its TypeScript sources');
  }
}
