/** Turns the measured steps of bench/pipeline into the printed tables: figures and ratios, never pass/fail. */
import type { ComponentFigures, Timing } from './components.js';
import type { StepTimes } from './timeline.js';

/** What one variant (process layout × trainer) measured. */
export interface VariantResult {
  readonly label: string;
  readonly times: readonly StepTimes[];
  /** The step rows `trainRun` returned for the measured steps (the orchestrator's own timers). */
  readonly rows: readonly Record<string, number | null>[];
  /**
   * BullMQ Lua scripts and all Redis commands (scripts' inner calls
   * included), per step; `keptKb`: Redis memory the run grew by, per step
   * (the step's groups are dropped by the next step; BullMQ keeps at most
   * 10,000 finished jobs a queue).
   */
  readonly redisPerStep: { readonly scripts: number; readonly all: number; readonly keptKb: number };
  /** CPU ms per process over the measured steps (`self`: this process: coordinator, in-process workers, and the CPU trainer in the variant that has one). */
  readonly cpu: { readonly wallMs: number; readonly steps: number; readonly spent: Readonly<Record<string, number | null>> } | null;
}

export interface ReportInput {
  readonly title: string;
  readonly note: string;
  readonly goal: { readonly completionsPerSecond: number; readonly turnaroundMs: number };
  readonly completionsPerStep: number;
  /** G: completions per rollout or resample job. */
  readonly groupSize: number;
  readonly servers: number;
  readonly results: readonly VariantResult[];
  /** With `--repeat`: completions/s of every run of each result's variant, in the order run (the result is the median run). */
  readonly repeats?: readonly (readonly number[])[];
  readonly components: ComponentFigures;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

const ms = (v: number, width = 8) => (Number.isFinite(v) ? v.toFixed(1) : '—').padStart(width);

interface Figures {
  readonly stepsPerSecond: number;
  readonly completionsPerSecond: number;
  readonly turnaround: readonly number[];
  readonly cycle: readonly number[];
  readonly resamples: number;
}

/** Completions per second over a run's measured window (first flow added → last step done); every sampling job brings G completions. */
export function completionsPerSecondOf(r: VariantResult, groupSize: number): number {
  const t = r.times;
  if (t.length === 0) return NaN;
  const samplings = t.reduce((a, s) => a + s.samplings, 0);
  return ((samplings * groupSize) / (t.at(-1)!.stepDone - t[0]!.enqueued)) * 1000;
}

/** Throughput over the measured window (first flow added → last step done). */
function toFigures(r: VariantResult, input: ReportInput): Figures {
  const t = r.times;
  if (t.length === 0) return { stepsPerSecond: NaN, completionsPerSecond: NaN, turnaround: [], cycle: [], resamples: 0 };
  const windowMs = t.at(-1)!.stepDone - t[0]!.enqueued;
  const samplings = t.reduce((a, s) => a + s.samplings, 0);
  return {
    stepsPerSecond: (t.length / windowMs) * 1000,
    completionsPerSecond: completionsPerSecondOf(r, input.groupSize),
    turnaround: t.flatMap((s) => (s.firstForward === null ? [] : [s.firstForward - s.scoresDone])),
    cycle: t.slice(1).map((s, i) => s.enqueued - t[i]!.enqueued),
    resamples: samplings - (t.length * input.completionsPerStep) / input.groupSize,
  };
}

const PHASES: readonly { label: string; of: (s: StepTimes, next: StepTimes | undefined) => number | null }[] = [
  { label: 'flow added → first rollout starts (BullMQ hop)', of: (s) => s.rolloutsStarted - s.enqueued },
  { label: 'first rollout starts → last rollout done', of: (s) => s.rolloutsDone - s.rolloutsStarted },
  { label: 'last rollout done → last score done', of: (s) => s.scoresDone - s.rolloutsDone },
  { label: 'last score done → step job starts (BullMQ hop)', of: (s) => s.stepStarted - s.scoresDone },
  { label: 'step job starts → 1st forward_backward arrives', of: (s) => (s.firstForward === null ? null : s.firstForward - s.stepStarted) },
  { label: '1st forward_backward → step job done', of: (s) => (s.firstForward === null ? null : s.stepDone - s.firstForward) },
  { label: '  (step job, start → done)', of: (s) => s.stepDone - s.stepStarted },
  { label: 'step job done → next flow added (coordinator)', of: (s, next) => (next ? next.enqueued - s.stepDone : null) },
  { label: 'step job done → next step job starts', of: (s, next) => (next ? next.stepStarted - s.stepDone : null) },
  { label: "  of which the next step's groups were late", of: (s, next) => (next ? Math.max(0, next.scoresDone - s.stepDone) : null) },
];

function printHeadline(input: ReportInput, figures: readonly Figures[]): void {
  const { goal } = input;
  const w = Math.max(...input.results.map((r) => r.label.length));
  console.log(
    `${'variant'.padEnd(w)}  ${'steps'.padStart(5)}  ${'steps/s'.padStart(7)}  ${'compl/s'.padStart(7)}  ${'÷goal'.padStart(6)}  │ ${'turnaround p50'.padStart(14)}  ${'p95'.padStart(6)}  ${'p95÷goal'.padStart(8)}  │ ${'cycle p50'.padStart(9)}  ${'p95'.padStart(6)}  resamples`,
  );
  input.results.forEach((r, i) => {
    const f = figures[i]!;
    const p50 = quantile(f.turnaround, 0.5);
    const p95 = quantile(f.turnaround, 0.95);
    console.log(
      `${r.label.padEnd(w)}  ${String(r.times.length).padStart(5)}  ${f.stepsPerSecond.toFixed(1).padStart(7)}  ${f.completionsPerSecond.toFixed(0).padStart(7)}  ` +
        `${(f.completionsPerSecond / goal.completionsPerSecond).toFixed(2).padStart(5)}×  │ ${ms(p50, 11)} ms  ${ms(p95, 6)}  ${Number.isFinite(p95) ? `${(p95 / goal.turnaroundMs).toFixed(2)}×`.padStart(8) : '—'.padStart(8)}  │ ` +
        `${ms(quantile(f.cycle, 0.5), 6)} ms  ${ms(quantile(f.cycle, 0.95), 6)}  ${f.resamples}`,
    );
  });
  console.log(
    `${'goal'.padEnd(w)}  ${''.padStart(5)}  ${(goal.completionsPerSecond / input.completionsPerStep).toFixed(1).padStart(7)}  ${String(goal.completionsPerSecond).padStart(7)}  ${'1.00×'.padStart(6)}  │ ${''.padStart(14)}  ${ms(goal.turnaroundMs, 6)}  ${'1.00×'.padStart(8)}  │`,
  );
  if (input.repeats) {
    console.log('each variant ran more than once: completions/s of every run, in the order run; every table shows its median run');
    input.results.forEach((r, i) =>
      console.log(`  ${r.label.padEnd(w)}  ${(input.repeats![i] ?? []).map((v) => v.toFixed(0).padStart(5)).join('  ')}`),
    );
  }
  const byLabel = (prefix: string) => figures[input.results.findIndex((r) => r.label.startsWith(prefix))];
  const serial = byLabel('1 process, no-op trainer');
  const ratio = (name: string, of: Figures | undefined) => {
    if (serial && of && of !== serial)
      console.log(
        `${name}: ${(of.completionsPerSecond / serial.completionsPerSecond).toFixed(2)}× completions/s, ${(quantile(of.turnaround, 0.5) / quantile(serial.turnaround, 0.5)).toFixed(2)}× turnaround p50`,
      );
  };
  ratio('2 worker processes ÷ 1', byLabel('2 worker processes'));
  ratio('overlapped ÷ serial', byLabel('1 process, no-op trainer, overlapped'));
  console.log(
    '÷goal: completions/s ÷ 5,000 (≥ 1 meets it); p95÷goal: turnaround p95 ÷ 50 ms (≤ 1 meets it). turnaround: last score job finished (BullMQ finishedOn, 1 ms resolution) → first forward_backward at the trainer.',
  );
}

function printPhases(input: ReportInput): void {
  const rowMean = (r: VariantResult, key: string, per = 1) =>
    mean(r.rows.flatMap((row) => (typeof row[key] === 'number' ? [(row[key] as number) / per] : [])));
  const lines: [string, (r: VariantResult) => string][] = [
    ...PHASES.map((p): [string, (r: VariantResult) => string] => [
      p.label,
      (r) =>
        ms(
          mean(
            r.times.flatMap((s, i) => {
              const v = p.of(s, r.times[i + 1]);
              return v === null ? [] : [v];
            }),
          ),
          18,
        ),
    ]),
    ['orchestrator timers: rollout per group (prep+HTTP)', (r) => ms(rowMean(r, 'rollout_ms', 8), 18)],
    ['orchestrator timers: score per group', (r) => ms(rowMean(r, 'score_ms', 8), 18)],
    ['orchestrator timers: train (fb, optim, checkpoint)', (r) => ms(rowMean(r, 'train_ms'), 18)],
    ['orchestrator timers: weight sync', (r) => ms(rowMean(r, 'sync_ms'), 18)],
    ['Redis: BullMQ scripts per step', (r) => r.redisPerStep.scripts.toFixed(0).padStart(18)],
    ['Redis: commands per step (incl. inside scripts)', (r) => r.redisPerStep.all.toFixed(0).padStart(18)],
    ['Redis: memory kept per step (KB; BullMQ history)', (r) => r.redisPerStep.keptKb.toFixed(1).padStart(18)],
  ];
  const w = Math.max(...lines.map(([label]) => label.length));
  console.log(`\nwhere a step's time goes (critical path, mean ms per step, from BullMQ job timestamps and trainer arrivals):`);
  console.log(`${''.padEnd(w)}${input.results.map((r) => ` │ ${r.label.split(',')[0]!.padStart(18)}`).join('')}`);
  console.log(`${''.padEnd(w)}${input.results.map((r) => ` │ ${(r.label.split(', ')[1] ?? '').padStart(18)}`).join('')}`);
  for (const [label, cell] of lines) console.log(`${label.padEnd(w)}${input.results.map((r) => ` │ ${cell(r)}`).join('')}`);
}

function printCpu(input: ReportInput): void {
  const names = [...new Set(input.results.flatMap((r) => Object.keys(r.cpu?.spent ?? {})))];
  if (names.length === 0) return;
  const label = (n: string) => (n === 'self' ? 'this process (coordinator, workers)' : n);
  const w = Math.max(...names.map((n) => label(n).length), 'orchestrator ms per completion (goal ≤ 0.2)'.length);
  console.log(`\nCPU ms per step by process, over the measured steps (/proc; 10 ms ticks):`);
  const cell = (r: VariantResult, n: string) => {
    const v = r.cpu?.spent[n];
    return ms(v === undefined || v === null || !r.cpu ? NaN : v / r.cpu.steps, 18);
  };
  for (const n of names) console.log(`${label(n).padEnd(w)}${input.results.map((r) => ` │ ${cell(r, n)}`).join('')}`);
  const all = (r: VariantResult) => (r.cpu ? Object.values(r.cpu.spent).reduce<number>((a, v) => a + (v ?? 0), 0) : NaN);
  console.log(`${'all'.padEnd(w)}${input.results.map((r) => ` │ ${ms(r.cpu ? all(r) / r.cpu.steps : NaN, 18)}`).join('')}`);
  console.log(
    `${'cores busy (all CPU ÷ wall time)'.padEnd(w)}${input.results.map((r) => ` │ ${(r.cpu ? (all(r) / r.cpu.wallMs).toFixed(2) : '—').padStart(18)}`).join('')}`,
  );
  console.log(
    `${'orchestrator ms per completion (goal ≤ 0.2)'.padEnd(w)}${input.results.map((r) => ` │ ${(Number.isFinite(orchestratorMsPerCompletion(r, input)) ? orchestratorMsPerCompletion(r, input).toFixed(3) : '—').padStart(18)}`).join('')}`,
  );
}

function printComponents(input: ReportInput): void {
  const c = input.components;
  const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
  const pairs = input.completionsPerStep / input.groupSize;
  console.log(
    "\neach piece timed alone (same fakes, trainer and Redis; mean per call: wall ms, and ms of this process's CPU, user + system):",
  );
  const rows: [string, Timing, string][] = [
    ['frame prep, cold encode, per pair', c.prepareCold, `sharp decode+resize+PNG; ${kb(c.imageBytes)} per image`],
    ['frame prep, cache hit, per pair', c.prepareHit, 'one stat of each file (the cached content hash is kept): every rollout'],
    [
      'fleet request, G completions',
      c.fleetSequential,
      `${kb(c.requestBytes)} of images per request; the fake holds each ≥ 1 ms (timer floor)`,
    ],
    [`${pairs} fleet requests at once`, c.fleetBurst, `the HTTP part of one step's rollouts on ${input.servers} servers`],
    ['chat reply decode, whole body', c.replyWhole, `${kb(c.replyBytes)} reply of G completions: JSON.parse + checks`],
    [
      '  the same, log-prob entries as numbers',
      c.replyLean,
      `what the fleet does: ${(c.replyWhole.ms / c.replyLean.ms).toFixed(2)}× faster, the same result`,
    ],
    ['score one group', c.scoreGroup, 'parse + rewards + advantages (pure)'],
    ['forward_backward, one micro-batch', c.forwardBackward, `${kb(c.forwardBackwardBytes)} body: validate + JSON + HTTP + validate reply`],
    [
      '  the same, images by hash only',
      c.forwardBackwardByHash,
      `${kb(c.forwardBackwardByHashBytes)} body: what the step job sends once the trainer holds a pair`,
    ],
    [
      '    and completions packed',
      c.forwardBackwardPacked,
      `${kb(c.forwardBackwardPackedBytes)} body: token ids and log-probs as base64 (a trainer with packed_completions): ${(c.forwardBackwardByHash.ms / c.forwardBackwardPacked.ms).toFixed(2)}× faster`,
    ],
    ['optim_step', c.optimStep, ''],
    ['control call (GET /health)', c.controlCall, 'one small HTTP call: the step makes two to the trainer, one per server to sync'],
    [
      `in-flight update of ${input.servers} servers`,
      c.fleetUpdate,
      'each server: /health, pause (keep), reload_weights, update_weight_version, resume; at once',
    ],
    [`step flow, 1 + ${pairs} BullMQ jobs`, c.stepFlow, 'added, taken and completed by no-op workers: BullMQ alone'],
    ['Redis PING round trip', c.redisPing, ''],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`  ${''.padEnd(w)} ${'wall'.padStart(8)} ${'CPU'.padStart(8)}`);
  for (const [label, t, why] of rows)
    console.log(`  ${label.padEnd(w)} ${t.ms.toFixed(3).padStart(8)} ${t.cpuMs.toFixed(3).padStart(8)}  ${why}`);
  // What a step of the overlapped mode cannot do without: its pieces' CPU, each once as often as a step makes it.
  const microBatches = Math.ceil(pairs / 4);
  const floor: [string, number][] = [
    [`${pairs} fleet requests (with reply decode)`, pairs * c.fleetSequential.cpuMs],
    [`${pairs} frame cache hits and scorings`, pairs * (c.prepareHit.cpuMs + c.scoreGroup.cpuMs)],
    [`the step flow (1 + ${pairs} BullMQ jobs)`, c.stepFlow.cpuMs],
    [`${microBatches} forward_backward (packed), optim_step`, microBatches * c.forwardBackwardPacked.cpuMs + c.optimStep.cpuMs],
    ['trainer health ×2, weights/send', 3 * c.controlCall.cpuMs],
    [`in-flight update of ${input.servers} servers`, c.fleetUpdate.cpuMs],
  ];
  const sum = floor.reduce((a, [, v]) => a + v, 0);
  console.log(
    `\nthe CPU of those pieces a step of ${input.completionsPerStep} completions makes (4 groups a micro-batch), summed: the orchestrator's floor without its own bookkeeping (group store, run store, coordinator):`,
  );
  for (const [label, v] of floor) console.log(`  ${label.padEnd(w + 9)} ${v.toFixed(2).padStart(6)} ms`);
  console.log(
    `  ${'sum'.padEnd(w + 9)} ${sum.toFixed(2).padStart(6)} ms a step = ${(sum / input.completionsPerStep).toFixed(3)} ms per completion (goal ≤ 0.2: ${(0.2 * input.completionsPerStep).toFixed(1)} ms a step)`,
  );
}

/** The headline figures of one variant, as bench/pipeline/baseline.json records them. */
export interface VariantSummary {
  readonly completionsPerSecond: number;
  readonly turnaroundP95Ms: number;
  readonly cycleP50Ms: number;
  /** CPU ms of the orchestrator's processes (this one and extra worker processes) per completion. */
  readonly orchestratorMsPerCompletion: number;
  readonly scriptsPerStep: number;
  readonly commandsPerStep: number;
}

/** A recorded run to print beside this one: the figures of another commit. */
export interface Baseline {
  readonly commit: string;
  readonly note: string;
  readonly variants: Readonly<Record<string, VariantSummary>>;
}

const ORCHESTRATOR_PROCESSES = ['self', 'worker process'];

/** CPU ms of this process and the extra worker processes per completion over the measured steps. */
function orchestratorMsPerCompletion(r: VariantResult, input: ReportInput): number {
  if (!r.cpu || r.times.length === 0) return NaN;
  const spent = ORCHESTRATOR_PROCESSES.reduce((a, n) => a + (r.cpu!.spent[n] ?? 0), 0);
  const completionsPerStep = (r.times.reduce((a, s) => a + s.samplings, 0) * input.groupSize) / r.times.length;
  return spent / r.cpu.steps / completionsPerStep;
}

/** The headline figures of every variant, by label. */
export function summarize(input: ReportInput): Record<string, VariantSummary> {
  return Object.fromEntries(
    input.results.map((r) => {
      const f = toFigures(r, input);
      return [
        r.label,
        {
          completionsPerSecond: f.completionsPerSecond,
          turnaroundP95Ms: quantile(f.turnaround, 0.95),
          cycleP50Ms: quantile(f.cycle, 0.5),
          orchestratorMsPerCompletion: orchestratorMsPerCompletion(r, input),
          scriptsPerStep: r.redisPerStep.scripts,
          commandsPerStep: r.redisPerStep.all,
        },
      ];
    }),
  );
}

const SUMMARY_ROWS: readonly [string, keyof VariantSummary, number, string][] = [
  ['completions/s', 'completionsPerSecond', 0, 'goal ≥ 2,500 on 2 cores (issue 16)'],
  ['step turnaround p95 (ms)', 'turnaroundP95Ms', 1, 'goal ≤ 50'],
  ['step cycle p50 (ms)', 'cycleP50Ms', 1, ''],
  [
    'orchestrator CPU ms per completion',
    'orchestratorMsPerCompletion',
    3,
    'goal ≤ 0.2 (this process + worker processes; not the fakes, no-op trainer or Redis; the CPU trainer variant counts its in-process trainer)',
  ],
  ['BullMQ scripts per step', 'scriptsPerStep', 0, ''],
  ['Redis commands per step', 'commandsPerStep', 0, 'incl. inside scripts'],
];

/** This run beside the recorded baseline, variant by variant. */
function printBaseline(input: ReportInput, baseline: Baseline): void {
  const now = summarize(input);
  console.log(`\nbefore → now: before = bench/pipeline/baseline.json (commit ${baseline.commit}: ${baseline.note})`);
  for (const [label, after] of Object.entries(now)) {
    const before = baseline.variants[label];
    if (!before) continue;
    console.log(`  ${label}`);
    const w = Math.max(...SUMMARY_ROWS.map((r) => r[0].length));
    // A figure a variant does not have (turnaround without the no-op trainer's log) is null in JSON.
    const fmt = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
    for (const [name, key, digits, why] of SUMMARY_ROWS) {
      const b = before[key] as number | null;
      const a = after[key];
      const ratio = b !== null && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—';
      console.log(`    ${name.padEnd(w)} ${fmt(b, digits).padStart(9)} → ${fmt(a, digits).padStart(9)}  ${ratio.padStart(6)}  ${why}`);
    }
  }
}

/** Prints the headline table, the per-phase breakdown, the component timings and, given one, the baseline beside this run. */
export function printReport(input: ReportInput, baseline?: Baseline): void {
  console.log(input.title);
  console.log(`  ${input.note}\n`);
  const figures = input.results.map((r) => toFigures(r, input));
  printHeadline(input, figures);
  printPhases(input);
  printCpu(input);
  printComponents(input);
  if (baseline) printBaseline(input, baseline);
}
