import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type RssRun, runWithMaxRss } from './run-with-max-rss.js';
import { writeScoreFiles } from './score-files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(ROOT, 'apps/cli/scripts/build.mjs');
const BIN = join(ROOT, 'apps/cli/bin/differad.js');
const CHILD_SOURCE = fileURLToPath(new URL('./score-child.ts', import.meta.url));
/** Inside the repository so that the bundle's bare imports (zod, …) resolve from node_modules. */
const CHILD_BUNDLE = join(ROOT, 'node_modules/.cache/differad-bench/score-child.mjs');

/** What one scoring child did. */
export type ScoreRun = RssRun;

/** Runs node on `script args` (V8 heap capped at `heapMb`, or node's default) and reads its peak RSS. */
function runChild(script: string, args: readonly string[], heapMb: number | null): Promise<ScoreRun> {
  return runWithMaxRss([script, ...args], { heapMb });
}

/** Generated score inputs and the runs over them. */
export interface ScoreBench {
  readonly inputMb: number;
  /** The compiled `differad score --out … --json`. */
  cli(heapMb: number | null): Promise<ScoreRun>;
  /** The same scorer with the manifest's ids in a Map (before) or in createIdIndex (after), default heap. */
  variant(index: 'map' | 'compact'): Promise<ScoreRun>;
  close(): Promise<void>;
}

/**
 * Builds the CLI if stale and bundles score-child.ts, then generates an
 * n-line manifest and prediction file; each run scores them in a child,
 * writing --out, and reports the child's peak RSS.
 */
export async function openScoreBench(n: number): Promise<ScoreBench> {
  execFileSync(process.execPath, [BUILD, '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await mkdir(join(CHILD_BUNDLE, '..'), { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: [CHILD_SOURCE],
    outfile: CHILD_BUNDLE,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    plugins: [
      {
        name: 'external-third-party',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@differad/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  const dir = await mkdtemp(join(tmpdir(), 'differad-bench-score-'));
  const manifest = join(dir, 'manifest.jsonl');
  const predictions = join(dir, 'predictions.jsonl');
  const out = join(dir, 'scores.jsonl');
  try {
    await writeScoreFiles(manifest, predictions, n);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    inputMb: ((await stat(manifest)).size + (await stat(predictions)).size) / 2 ** 20,
    cli: (heapMb) => runChild(BIN, ['score', '--manifest', manifest, '--predictions', predictions, '--out', out, '--json'], heapMb),
    variant: (index) => runChild(CHILD_BUNDLE, [index, manifest, predictions, out], null),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
