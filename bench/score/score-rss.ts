import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeScoreFiles } from './score-files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(ROOT, 'apps/cli/scripts/build.mjs');
const BIN = join(ROOT, 'apps/cli/bin/differad.js');
const MAX_RSS = fileURLToPath(new URL('./max-rss.mjs', import.meta.url));
const CHILD_SOURCE = fileURLToPath(new URL('./score-child.ts', import.meta.url));
/** Inside the repository so that the bundle's bare imports (zod, …) resolve from node_modules. */
const CHILD_BUNDLE = join(ROOT, 'node_modules/.cache/differad-bench/score-child.mjs');

/** What one scoring child did. */
export interface ScoreRun {
  readonly code: number | null;
  readonly maxRssMb: number | null;
  readonly seconds: number;
  /** The summary it printed (JSON), or null. */
  readonly summary: string | null;
  readonly samples: number | null;
  readonly stderrTail: string;
}

/** Runs node on `script args` (V8 heap capped at `heapMb`, or node's default) and reads its peak RSS (max-rss.mjs prints it on exit). */
function runChild(script: string, args: readonly string[], heapMb: number | null): Promise<ScoreRun> {
  const t0 = performance.now();
  const heap = heapMb === null ? [] : [`--max-old-space-size=${heapMb}`];
  const child = spawn(process.execPath, [...heap, '--import', MAX_RSS, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const rss = /max-rss-kb (\d+)/.exec(stderr);
      let summary: string | null = null;
      let samples: number | null = null;
      try {
        const parsed = JSON.parse(stdout) as { input: { samples: number } };
        summary = JSON.stringify(parsed);
        samples = parsed.input.samples;
      } catch {
        // No summary: the exit code and stderr say why.
      }
      resolve({
        code,
        maxRssMb: rss ? Number(rss[1]) / 1024 : null,
        seconds: (performance.now() - t0) / 1000,
        summary,
        samples,
        stderrTail: stderr.replace(/\nmax-rss-kb \d+\n$/, '').split('\n').slice(-6).join('\n'),
      });
    });
  });
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
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@differad/') ? undefined : { path: args.path, external: true }));
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
