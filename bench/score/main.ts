/**
 * bench/score — scores generated predictions and prints samples/s for each
 * stage of `differad score`: parsing (answer + format reward), rewards
 * (frame conversion, localization reward, group advantages and weights) and
 * metrics; then peak RSS over a generated manifest and prediction file of
 * `--lines` lines: the compiled `differad score` as a user runs it (node's
 * default heap) and with its V8 heap capped at 256 MB, and side by side the
 * same scorer with the manifest's ids in a Map (before) and in the compact
 * id index (after); last the peak RSS of `differad eval` over `--eval-samples`
 * records against an in-process fake vLLM, fresh and resumed (`--eval-bin`
 * runs another build of the CLI, an older checkout's, for the figure before).
 * Prints figures, never pass/fail.
 *
 *   npm run bench:score                # 100,000 predictions; peak RSS over 1,000,000 lines; eval over 20,000 samples
 *   npm run bench:score -- --quick     # 5,000 and 50,000 lines, eval over 1,000 samples, to prove it runs
 *   npm run bench:score -- --n 250000 --lines 2000000 --eval-samples 50000
 *   npm run bench:score -- --eval-bin /tmp/old-checkout/apps/cli/bin/differad.js
 */
import {
  type Box,
  computeAdvantages,
  computeDifficultyWeight,
  computeFormatReward,
  computeLocReward,
  computeMetricReport,
  computeSampleScore,
  computeTotalReward,
  createRng,
  DEFAULT_SCORE_SETTINGS,
  type ManifestRecord,
  type ParsedAnswer,
  parseAnswer,
  type SampleScore,
  toModelFrame,
} from '@differad/core';
import { makeCompletion, makeRecord } from './score-files.js';
import { fileURLToPath } from 'node:url';
import { type EvalRun, measureEvalRss } from './eval-rss.js';
import { openScoreBench, type ScoreRun } from './score-rss.js';

/** Peak RSS of `differad score` over these 1M lines before it streamed, on two shared cores (1,213 MB in issue 13; with an 800 MB heap it ran out of memory). */
const RSS_BEFORE_MB = 1636;
const RSS_GOAL_MB = 300;
const HEAP_CAP_MB = 256;
/** Peak RSS of `differad eval` over 20,000 samples against the fake vLLM before its resume and outputs streamed (this bench with --eval-bin on the build of 7ce05dd). */
const EVAL_RSS_BEFORE_MB = { fresh: 375, resumed: 283 };
const BIN = fileURLToPath(new URL('../../apps/cli/bin/differad.js', import.meta.url));

function intArg(argv: readonly string[], flag: string, fallback: number): number {
  const i = argv.indexOf(flag);
  const n = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 8) throw new Error(`${flag} needs an integer ≥ 8, got ${argv[i + 1]}`);
  return n;
}

function parseArgs(argv: readonly string[]): { n: number; lines: number; evalSamples: number; evalBin: string } {
  const i = argv.indexOf('--eval-bin');
  const evalBin = i >= 0 ? argv[i + 1]! : BIN;
  if (argv.includes('--quick')) return { n: 5_000, lines: 50_000, evalSamples: 1_000, evalBin };
  return {
    n: intArg(argv, '--n', 100_000),
    lines: intArg(argv, '--lines', 1_000_000),
    evalSamples: intArg(argv, '--eval-samples', 20_000),
    evalBin,
  };
}

function generate(n: number) {
  const rng = createRng('bench-score');
  const records: ManifestRecord[] = [];
  const completions: string[] = [];
  for (let i = 0; i < n; i++) {
    const record = makeRecord(rng, i);
    records.push(record);
    completions.push(makeCompletion(rng, record));
  }
  return { records, completions };
}

function time<T>(fn: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = fn();
  return { result, ms: performance.now() - t0 };
}

function throughput(n: number): void {
  const { records, completions } = generate(n);
  const family = DEFAULT_SCORE_SETTINGS.family;
  const reward = DEFAULT_SCORE_SETTINGS.reward;

  const parse = time(() => {
    const answers: ParsedAnswer[] = new Array(n);
    const formats: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      answers[i] = parseAnswer(completions[i]!, family);
      formats[i] = computeFormatReward(completions[i]!);
    }
    return { answers, formats };
  });

  const rewards = time(() => {
    const loc: number[] = new Array(n);
    const total: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      const gt = r.box === null ? null : toModelFrame(r.box as Box, 'norm1000', { width: r.width, height: r.height });
      loc[i] = computeLocReward(parse.result.answers[i]!, gt, reward);
      total[i] = computeTotalReward(parse.result.formats[i]!, loc[i]!, reward);
    }
    // Group statistics as in training: groups of G = 8.
    let weights = 0;
    for (let g = 0; g + 8 <= n; g += 8) {
      computeAdvantages(total.slice(g, g + 8));
      weights += computeDifficultyWeight(loc.slice(g, g + 8));
    }
    return weights;
  });

  const scored = time(() => records.map((r, i): SampleScore => computeSampleScore(r, { id: r.id, completion: completions[i]! })));
  const metrics = time(() => computeMetricReport(scored.result, 0.3));

  const chars = completions.reduce((a, c) => a + c.length, 0);
  const rows: [string, number][] = [
    ['parse (answer + format reward)', parse.ms],
    ['rewards (frames, R_loc, R, group stats)', rewards.ms],
    ['metrics (overall, class, subset)', metrics.ms],
    ['whole sample score (parse + rewards + eval IoU)', scored.ms],
  ];
  console.log(`bench/score: ${n} predictions, ${(chars / n).toFixed(0)} chars per completion on average, node ${process.version}`);
  for (const [label, ms] of rows) {
    console.log(`  ${label.padEnd(48)} ${(n / (ms / 1000)).toFixed(0).padStart(10)} samples/s  (${ms.toFixed(1)} ms)`);
  }
  const sum = parse.ms + rewards.ms + metrics.ms;
  console.log(
    `  share of time: parse ${((100 * parse.ms) / sum).toFixed(0)}% · rewards ${((100 * rewards.ms) / sum).toFixed(0)}% · metrics ${((100 * metrics.ms) / sum).toFixed(0)}%`,
  );
  console.log(`  check: Acc@0.3 ${metrics.result.overall.acc?.toFixed(4)} over ${metrics.result.overall.n} samples`);
}

function formatRun(label: string, run: ScoreRun, note = ''): string {
  const rss = run.maxRssMb === null ? '?' : run.maxRssMb.toFixed(0);
  const failed = run.code === 0 ? '' : `  ·  exit ${run.code}: ${run.stderrTail}`;
  return `  ${label.padEnd(46)} ${rss.padStart(5)} MB  ·  ${run.seconds.toFixed(1).padStart(5)} s  ·  ${run.samples ?? '?'} samples${note}${failed}`;
}

async function peakRss(lines: number): Promise<void> {
  const bench = await openScoreBench(lines);
  try {
    const runs: [string, ScoreRun, string][] = [];
    const cli = await bench.cli(null);
    runs.push(['differad score (default heap, as users run it)', cli, `  (goal ≤ ${RSS_GOAL_MB} MB)`]);
    runs.push([`differad score, heap capped at ${HEAP_CAP_MB} MB`, await bench.cli(HEAP_CAP_MB), '']);
    const map = await bench.variant('map');
    runs.push(['same scorer, ids in a Map (before)', map, '']);
    const compact = await bench.variant('compact');
    runs.push(['same scorer, compact id index (after)', compact, '']);
    console.log(`peak RSS scoring ${lines} manifest lines and their predictions (${bench.inputMb.toFixed(0)} MB of JSONL, --out written):`);
    for (const [label, run, note] of runs) console.log(formatRun(label, run, note));
    const same = cli.summary !== null && [map, compact].every((r) => r.summary === cli.summary);
    console.log(
      `  summaries identical across the four: ${same ? 'yes' : 'NO'}  ·  before streaming: ${RSS_BEFORE_MB} MB over 1,000,000 lines, out of memory with an 800 MB heap`,
    );
    if (!same || runs.some(([, r]) => r.code !== 0)) process.exitCode = 1;
  } finally {
    await bench.close();
  }
}

function formatEvalRun(label: string, run: EvalRun, beforeMb: number): string {
  const rss = run.maxRssMb === null ? '?' : run.maxRssMb.toFixed(0);
  const failed = run.code === 0 ? '' : `  ·  exit ${run.code}: ${run.stderrTail}`;
  return `  ${label.padEnd(46)} ${rss.padStart(5)} MB  ·  ${run.seconds.toFixed(1).padStart(5)} s  ·  ${run.samples ?? '?'} samples  (before: ${beforeMb} MB at 20,000)${failed}`;
}

async function evalRss(samples: number, bin: string): Promise<void> {
  const { fresh, resumed } = await measureEvalRss(samples, bin);
  console.log(`peak RSS of differad eval over ${samples} samples against a fake vLLM (default heap${bin === BIN ? '' : `, ${bin}`}):`);
  console.log(formatEvalRun('fresh run (asks every sample)', fresh, EVAL_RSS_BEFORE_MB.fresh));
  console.log(formatEvalRun('rerun resuming the finished run', resumed, EVAL_RSS_BEFORE_MB.resumed));
  if (fresh.code !== 0 || resumed.code !== 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { n, lines, evalSamples, evalBin } = parseArgs(process.argv.slice(2));
  throughput(n);
  await peakRss(lines);
  await evalRss(evalSamples, evalBin);
}

await main();
