/**
 * bench/score — scores generated predictions and prints samples/s for each
 * stage of `differad score`: parsing (answer + format reward), rewards
 * (frame conversion, localization reward, group advantages and weights) and
 * metrics. Prints figures, never pass/fail.
 *
 *   npm run bench:score                # 100,000 predictions
 *   npm run bench:score -- --quick     # 5,000, to prove it runs
 *   npm run bench:score -- --n 250000
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
  type Rng,
  type SampleScore,
  toModelFrame,
} from '@differad/core';

function parseArgs(argv: readonly string[]): { n: number } {
  if (argv.includes('--quick')) return { n: 5_000 };
  const i = argv.indexOf('--n');
  const n = i >= 0 ? Number(argv[i + 1]) : 100_000;
  if (!Number.isInteger(n) || n < 8) throw new Error(`--n needs an integer ≥ 8, got ${argv[i + 1]}`);
  return { n };
}

function randomBox(rng: Rng, w: number, h: number): Box {
  const x1 = rng.int(0, w - 20);
  const y1 = rng.int(0, h - 20);
  return [x1, y1, rng.int(x1 + 5, Math.min(w, x1 + 200)), rng.int(y1 + 5, Math.min(h, y1 + 200))];
}

function makeCompletion(rng: Rng, record: ManifestRecord): string {
  const think = 'The target differs from the reference '.repeat(rng.int(1, 6));
  const roll = rng.next();
  if (roll < 0.05) return `garbage ${think} (12, 40) [7, 8`;
  if (record.box === null || roll < 0.15) return `<think>${think}</think><answer>(0,0),(0,0)</answer>`;
  const size = { width: record.width, height: record.height };
  const b = toModelFrame(randomBox(rng, record.width, record.height), 'norm1000', size);
  return rng.next() < 0.5
    ? `<think>${think}</think><answer>(${b[0]},${b[1]}),(${b[2]},${b[3]})</answer>`
    : `<think>${think}</think>\n<answer>[ ${b[0]}, ${b[1]}, ${b[2]}, ${b[3]} ]</answer> trailing`;
}

function generate(n: number) {
  const rng = createRng('bench-score');
  const records: ManifestRecord[] = [];
  const completions: string[] = [];
  for (let i = 0; i < n; i++) {
    const width = rng.pick([256, 640, 1024]);
    const height = rng.pick([256, 480, 1024]);
    const record: ManifestRecord = {
      id: `s${i}`,
      class: `class-${i % 15}`,
      subset: i % 3 === 0 ? 'texture' : 'object',
      reference: 'r.png',
      target: 't.png',
      width,
      height,
      box: rng.next() < 0.25 ? null : [...randomBox(rng, width, height)],
    };
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

function main(): void {
  const { n } = parseArgs(process.argv.slice(2));
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
  console.log(`  share of time: parse ${((100 * parse.ms) / sum).toFixed(0)}% · rewards ${((100 * rewards.ms) / sum).toFixed(0)}% · metrics ${((100 * metrics.ms) / sum).toFixed(0)}%`);
  console.log(`  check: Acc@0.3 ${metrics.result.overall.acc?.toFixed(4)} over ${metrics.result.overall.n} samples`);
}

main();
