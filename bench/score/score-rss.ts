import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeScoreFiles } from './score-files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(ROOT, 'apps/cli/scripts/build.mjs');
const BIN = join(ROOT, 'apps/cli/bin/differad.js');
const MAX_RSS = fileURLToPath(new URL('./max-rss.mjs', import.meta.url));

/** What one `differad score` child did. */
export interface ScoreRun {
  readonly code: number | null;
  readonly maxRssMb: number | null;
  readonly seconds: number;
  readonly samples: number | null;
  readonly stderrTail: string;
}

/** Runs the compiled `differad score` under a heap cap and reads its peak RSS (max-rss.mjs prints it on exit). */
function runScore(args: readonly string[], heapMb: number): Promise<ScoreRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', MAX_RSS, BIN, 'score', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const rss = /max-rss-kb (\d+)/.exec(stderr);
      let samples: number | null;
      try {
        samples = (JSON.parse(stdout) as { input: { samples: number } }).input.samples;
      } catch {
        samples = null;
      }
      resolve({
        code,
        maxRssMb: rss ? Number(rss[1]) / 1024 : null,
        seconds: (performance.now() - t0) / 1000,
        samples,
        stderrTail: stderr.replace(/\nmax-rss-kb \d+\n$/, '').split('\n').slice(-6).join('\n'),
      });
    });
  });
}

/**
 * Generates an n-line manifest and prediction file and scores them with the
 * compiled CLI in a child capped at `heapMb` of V8 heap, writing --out: the
 * figure is the child's peak RSS.
 */
export async function measureScoreRss(n: number, heapMb: number): Promise<ScoreRun & { inputMb: number }> {
  execFileSync(process.execPath, [BUILD, '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const dir = await mkdtemp(join(tmpdir(), 'differad-bench-score-'));
  try {
    const manifest = join(dir, 'manifest.jsonl');
    const predictions = join(dir, 'predictions.jsonl');
    await writeScoreFiles(manifest, predictions, n);
    const inputMb = ((await stat(manifest)).size + (await stat(predictions)).size) / 2 ** 20;
    const run = await runScore(['--manifest', manifest, '--predictions', predictions, '--out', join(dir, 'scores.jsonl'), '--json'], heapMb);
    return { ...run, inputMb };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
