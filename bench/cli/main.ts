/**
 * bench/cli — start-up time of the `differad` command, run side by side three
 * ways: `before`, the TypeScript sources through tsx with every command
 * imported up front (how every run started before the build and the lazy
 * command table); `source`, the sources through tsx loading only the command
 * run (DIFFERAD_FROM_SOURCE=1); and `compiled`, apps/cli/dist, what `npm ci`
 * builds and the bin runs. Each run is a fresh process, timed
 * from spawn to exit; the two ways alternate so load on the machine hits both
 * alike. Prints median and p90 per way and the ratio, never pass/fail.
 *
 *   npm run bench:cli                # 20 runs of each way and command
 *   npm run bench:cli -- --quick     # 3 runs, to prove it runs
 *   npm run bench:cli -- --runs 50
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/differad.js', import.meta.url));
const BUILD = fileURLToPath(new URL('../../apps/cli/scripts/build.mjs', import.meta.url));
const EAGER = fileURLToPath(new URL('./eager-start.ts', import.meta.url));
const COMMANDS = [['--help'], ['score', '--help']] as const;
const WAYS = ['before', 'source', 'compiled'] as const;
type Way = (typeof WAYS)[number];

function parseArgs(argv: readonly string[]): { runs: number } {
  if (argv.includes('--quick')) return { runs: 3 };
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 20;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs an integer ≥ 1, got ${argv[i + 1]}`);
  return { runs };
}

/** Milliseconds from spawn to exit of one `differad …args` started `way`. */
function timeRun(way: Way, args: readonly string[]): number {
  const env: NodeJS.ProcessEnv = { ...process.env, DIFFERAD_FROM_SOURCE: way === 'source' ? '1' : '0' };
  const t0 = performance.now();
  const argv = way === 'before' ? ['--import', 'tsx', EAGER, ...args] : [BIN, ...args];
  const run = spawnSync(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (run.status !== 0) throw new Error(`differad ${args.join(' ')} (${way}) exited with ${run.status}: ${run.stderr}`);
  // The bin runs the sources when a source changed after the build: that run would not measure the build.
  if (way === 'compiled' && run.stderr.includes('running the TypeScript sources'))
    throw new Error(`a source changed during the benchmark: ${run.stderr.trim()}`);
  return ms;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function main(): void {
  const { runs } = parseArgs(process.argv.slice(2));
  execFileSync(process.execPath, [BUILD, '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`bench/cli: differad start-up, ${runs} runs per way and command (spawn to exit), node ${process.version}`);
  for (const args of COMMANDS) {
    const times: Record<Way, number[]> = { before: [], source: [], compiled: [] };
    for (const way of WAYS) timeRun(way, args); // warm the file cache
    for (let k = 0; k < runs; k++) for (const way of k % 2 === 0 ? WAYS : [...WAYS].reverse()) times[way].push(timeRun(way, args));
    const stats = WAYS.map((way) => {
      const sorted = [...times[way]].sort((a, b) => a - b);
      return { way, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
    });
    console.log(`  differad ${args.join(' ')}`);
    for (const s of stats)
      console.log(`    ${s.way.padEnd(9)} median ${s.median.toFixed(0).padStart(5)} ms   p90 ${s.p90.toFixed(0).padStart(5)} ms`);
    const [before, source, compiled] = stats.map((s) => s.median) as [number, number, number];
    const goal = args[0] === '--help' ? `; goal < 300 ms: ${compiled < 300 ? 'met' : 'missed'}` : '';
    console.log(
      `    compiled vs before ×${(before / compiled).toFixed(1)} faster, vs source ×${(source / compiled).toFixed(1)} (medians)${goal}`,
    );
  }
}

main();
