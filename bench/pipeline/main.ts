/**
 * bench/pipeline — completions/s through rollout → score → step, and the step
 * turnaround (the step's last score job finished → the first forward_backward
 * reached the trainer), with the real orchestrator (`trainRun`: coordinator,
 * BullMQ workers, fleet client, trainer client, weight sync) on a real
 * embedded Redis, zero-latency fake vLLM servers in a child process and a
 * no-op trainer. Prints figures and ratios to the goals (≥ 5,000
 * completions/s, ≤ 50 ms turnaround at G=8 × 8 pairs), never pass/fail.
 *
 *   npm run bench:pipeline                 # 40 measured steps per variant
 *   npm run bench:pipeline -- --quick      # 4 measured steps, to prove it runs
 *   npm run bench:pipeline -- --steps 100 --servers 2 --size 224 --variants 0,1
 *   npm run bench:pipeline -- --repeat 3     # each variant 3 times, interleaved; the tables show the median run
 *   npm run bench:pipeline -- --manifest-pairs 100000   # a manifest of 100,000 pairs (ids), over the same 32 image pairs (4 × --pairs)
 *   npm run bench:pipeline -- --pairs 16 --variants 3   # 16 pairs a step (default 8)
 *   npm run bench:pipeline -- --variants 3 --staleness 2   # the overlapped variant two steps ahead (default 1)
 *   npm run bench:pipeline -- --save-baseline run.json --commit abc1234 --note '…'
 *
 * With bench/pipeline/baseline.json present (figures recorded at an earlier
 * commit) the report ends with that baseline and this run side by side.
 *
 * Variants: 0 = everything in one process (`differad train`), 1 = plus one
 * `differad worker` process, 2 = one process with the built-in CPU trainer,
 * 3 = variant 0 overlapped (`grpo.maxStaleness: 1`: the next step's
 * rollouts run while a step trains and syncs).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { formatStepHeader, trainRun } from '@differad/orchestrator';
import { connectRedis, createCatalogQueues, startEmbeddedRedis } from '@differad/queue';
import type { FakeVllmOptions } from '@differad/testing';
import type { Redis } from 'ioredis';
import { startChild } from './child.js';
import { measureComponents } from './components.js';
import { type CpuSnapshot, diffCpu, readCpu, type WatchedPids } from './cpu.js';
import type { TrainerArrival } from './noop-trainer.js';
import { writeBenchPairs } from './pairs.js';
import { type Baseline, completionsPerSecondOf, printReport, summarize, type VariantResult } from './report.js';
import { readRunTimes, type StepTimes } from './timeline.js';

const GOAL = { completionsPerSecond: 5_000, turnaroundMs: 50 };
/**
 * Steps of the run that is not measured. With 20, one variant measured three
 * times in a row gave 1,598, 1,940 and 2,062 completions/s (the first one
 * measured paid for the warm-up); with 150, 1,984, 2,130 and 1,969.
 */
const WARM_UP_STEPS = 150;
const MODEL = 'bench-model';
const G = 8;
/** Pairs a step draws (`--pairs`, default 8): with 1 and 16 beside 8, a step's CPU splits into what each group costs and what a step costs whatever its groups. */
const PAIRS = ((): number => {
  const at = process.argv.indexOf('--pairs');
  if (at < 0) return 8;
  const v = Number(process.argv[at + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--pairs needs an integer ≥ 1, got ${process.argv[at + 1]}`);
  return v;
})();

interface Args {
  readonly quick: boolean;
  readonly steps: number;
  readonly warmup: number;
  readonly servers: number;
  readonly size: number;
  /** Pairs the training manifest lists (`--manifest-pairs`): distinct ids over the image pairs written (4 × `--pairs`), as a large dataset's manifest. */
  readonly manifestPairs: number;
  /** Runs of each variant (`--repeat`), interleaved; the tables show each variant's median run by completions/s. */
  readonly repeat: number;
  /** Indexes into VARIANTS to run (default all). */
  readonly variants: readonly number[];
  /** grpo.maxStaleness of the overlapped variant (`--staleness`, default 1): how many steps its rollouts may run ahead of the trainer. */
  readonly staleness: number;
  /** Where to write this run's headline figures as a baseline (`--save-baseline FILE`; with `--commit` and `--note`). */
  readonly saveBaseline: { readonly file: string; readonly commit: string; readonly note: string } | null;
}

function parseArgs(argv: readonly string[]): Args {
  const quick = argv.includes('--quick');
  const num = (flag: string, fallback: number, min: number) => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < min) throw new Error(`${flag} needs an integer ≥ ${min}, got ${argv[i + 1]}`);
    return v;
  };
  const at = argv.indexOf('--variants');
  const variants = at < 0 ? VARIANTS.map((_, i) => i) : (argv[at + 1] ?? '').split(',').map(Number);
  if (variants.some((v) => !Number.isInteger(v) || VARIANTS[v] === undefined))
    throw new Error(`--variants needs indexes 0..${VARIANTS.length - 1}, e.g. 0,2`);
  const text = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const file = text('--save-baseline');
  const saveBaseline = file === undefined ? null : { file, commit: text('--commit') ?? 'unknown', note: text('--note') ?? '' };
  return {
    quick,
    steps: num('--steps', quick ? 4 : 40, 2),
    warmup: num('--warmup', 3, 1),
    servers: num('--servers', 4, 1),
    size: num('--size', 112, 28),
    manifestPairs: num('--manifest-pairs', 4 * PAIRS, 4 * PAIRS),
    repeat: num('--repeat', 1, 1),
    variants,
    staleness: num('--staleness', 1, 1),
    saveBaseline,
  };
}

interface Variant {
  readonly label: string;
  readonly workerProcesses: number;
  readonly trainer: 'noop' | 'cpu';
  /** grpo.maxStaleness: 0 = the serial on-policy loop, 1 = rollouts one step ahead of the trainer. */
  readonly maxStaleness: number;
}

const VARIANTS: readonly Variant[] = [
  { label: '1 process, no-op trainer', workerProcesses: 1, trainer: 'noop', maxStaleness: 0 },
  { label: '2 worker processes, no-op trainer', workerProcesses: 2, trainer: 'noop', maxStaleness: 0 },
  { label: '1 process, CPU trainer', workerProcesses: 1, trainer: 'cpu', maxStaleness: 0 },
  { label: '1 process, no-op trainer, overlapped (maxStaleness 1)', workerProcesses: 1, trainer: 'noop', maxStaleness: 1 },
];

function toConfig(input: {
  runId: string;
  steps: number;
  manifest: string;
  runsDir: string;
  urls: readonly string[];
  trainer: TrainConfig['trainer'];
  maxStaleness?: number;
}): TrainConfig {
  return TrainConfigSchema.parse({
    run: { id: input.runId, steps: input.steps, seed: 11, runsDir: input.runsDir, checkpointEvery: 1 },
    data: { train: input.manifest },
    policy: { kind: 'endpoints', endpoints: [...input.urls], model: MODEL, family: 'differad', frame: 'norm1000', syncBackend: 'disk' },
    trainer: input.trainer,
    grpo: { groupSize: G, pairsPerStep: PAIRS, ...(input.maxStaleness ? { maxStaleness: input.maxStaleness } : {}) },
    optim: { microBatchGroups: 4 },
  });
}

/** Bytes Redis holds (`used_memory`): what a run leaves behind per step shows in its growth. */
async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  return new Map([...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/**
 * A `log` for trainRun that keeps its lines and snapshots every process's CPU
 * when the last warm-up row and the last row are printed, so the CPU figures
 * cover exactly the measured steps.
 */
function createRowWatcher(args: Args, watched: WatchedPids) {
  const lines: string[] = [];
  const marks: { at: number; snapshot: CpuSnapshot }[] = [];
  let rows = -1;
  return {
    lines,
    log(line: string) {
      lines.push(line);
      if (line === formatStepHeader()) rows = 0;
      else if (rows >= 0 && (++rows === args.warmup || rows === args.warmup + args.steps))
        marks.push({ at: performance.now(), snapshot: readCpu(watched) });
    },
    cpu(): VariantResult['cpu'] {
      const [a, b] = marks;
      return a && b ? { wallMs: b.at - a.at, steps: args.steps, spent: diffCpu(a.snapshot, b.snapshot) } : null;
    },
  };
}

interface RunContext {
  readonly args: Args;
  readonly redisUrl: string;
  readonly producer: Redis;
  readonly manifest: string;
  readonly runsDir: string;
  readonly urls: readonly string[];
  /** The no-op trainer in its own process (trainer-host.ts). */
  readonly trainer: { readonly url: string; reset(): Promise<unknown>; arrivals(): Promise<TrainerArrival[]> };
  readonly pids: { readonly fakes: number; readonly redis: number; readonly trainer: number };
}

/** One `trainRun` of warm-up + measured steps in the variant's process layout, then its figures read back from Redis. */
async function runVariant(variant: Variant, ctx: RunContext): Promise<VariantResult> {
  const { args } = ctx;
  const runId = `bench-${variant.workerProcesses}p-${variant.trainer}-${Date.now().toString(36)}`;
  // One trainer serves one run at a time: each run gets it as freshly started.
  await ctx.trainer.reset();
  const trainer: TrainConfig['trainer'] = variant.trainer === 'cpu' ? { kind: 'cpu' } : { kind: 'url', url: ctx.trainer.url };
  const config = toConfig({
    runId,
    steps: args.warmup + args.steps,
    manifest: ctx.manifest,
    runsDir: ctx.runsDir,
    urls: ctx.urls,
    trainer,
    maxStaleness: variant.maxStaleness > 0 ? args.staleness : 0,
  });
  const extra = await Promise.all(
    Array.from({ length: variant.workerProcesses - 1 }, () => startChild<{ ready: boolean }>('worker-host.ts', [ctx.redisUrl])),
  );
  const watcher = createRowWatcher(args, {
    'fake vLLM servers': [ctx.pids.fakes],
    'redis-server': [ctx.pids.redis],
    ...(variant.trainer === 'noop' ? { 'no-op trainer': [ctx.pids.trainer] } : {}),
    ...(extra.length > 0 ? { 'worker process': extra.map((c) => c.pid) } : {}),
  });
  const before = await commandStats(ctx.producer);
  const memoryBefore = await usedMemory(ctx.producer);
  let rows: readonly Record<string, number | null>[];
  try {
    const result = await trainRun({
      config,
      env: { DIFFERAD_REDIS_URL: ctx.redisUrl },
      runsDir: ctx.runsDir,
      log: watcher.log,
      signal: new AbortController().signal,
    });
    if (result.state !== 'completed') throw new Error(`run ${runId} ended ${result.state}:\n${watcher.lines.join('\n')}`);
    rows = result.rows;
  } finally {
    await Promise.all(extra.map((c) => c.stop()));
  }
  const after = await commandStats(ctx.producer);
  const memoryAfter = await usedMemory(ctx.producer);
  const catalog = createCatalogQueues(ctx.producer);
  let times: StepTimes[];
  try {
    times = await readRunTimes(
      catalog,
      runId,
      { from: args.warmup, to: args.warmup + args.steps, pairCount: PAIRS },
      variant.trainer === 'noop' ? await ctx.trainer.arrivals() : [],
    );
  } finally {
    await catalog.close();
  }
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const steps = args.warmup + args.steps;
  return {
    label: variant.maxStaleness > 0 ? variant.label.replace(/maxStaleness \d+/, `maxStaleness ${args.staleness}`) : variant.label,
    times,
    rows: rows.slice(args.warmup),
    redisPerStep: {
      scripts: ((after.get('evalsha') ?? 0) - (before.get('evalsha') ?? 0)) / steps,
      all: (total(after) - total(before)) / steps,
      keptKb: (memoryAfter - memoryBefore) / 1024 / steps,
    },
    cpu: watcher.cpu(),
  };
}

/** The recorded figures printed beside this run's (bench/pipeline/baseline.json), or none. */
async function loadBaseline(): Promise<Baseline | undefined> {
  const text = await readFile(new URL('./baseline.json', import.meta.url), 'utf8').catch(() => null);
  return text === null ? undefined : (JSON.parse(text) as Baseline);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cleanup: (() => Promise<void>)[] = [];
  // Other work on the machine shares the cores with every process here: say how busy it was.
  const loadBefore = loadavg()[0]!;
  try {
    const dir = await mkdtemp(join(tmpdir(), 'differad-bench-pipeline-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const manifest = await writeBenchPairs(dir, 4 * PAIRS, args.size, args.manifestPairs);
    const redis = await startEmbeddedRedis();
    cleanup.push(() => redis.stop());
    const specs: FakeVllmOptions[] = Array.from({ length: args.servers }, (_, k) => ({
      model: MODEL,
      slots: 100_000,
      tokensPerSecond: 1e9,
      prefillMsPerImage: 0,
      policy: 'noisy',
      seed: k,
    }));
    const fakes = await startChild<{ urls: string[] }>('fake-host.ts', [JSON.stringify(specs)]);
    cleanup.push(() => fakes.stop());
    const trainerHost = await startChild<{ url: string }>('trainer-host.ts', []);
    cleanup.push(() => trainerHost.stop());
    const trainer = {
      url: trainerHost.hello.url,
      reset: () => trainerHost.ask('reset'),
      arrivals: () => trainerHost.ask<TrainerArrival[]>('arrivals'),
    };
    // What differad train uses: the embedded server's unix socket when it has one.
    const redisUrl = redis.socketUrl ?? redis.url;
    const producer = await connectRedis(redisUrl, 'producer', 5_000);
    cleanup.push(async () => producer.disconnect());

    const runsDir = join(dir, 'runs');
    const ctx: RunContext = {
      args,
      redisUrl,
      producer,
      manifest,
      runsDir,
      urls: fakes.hello.urls,
      trainer,
      pids: { fakes: fakes.pid, redis: redis.pid, trainer: trainerHost.pid },
    };
    // The first runs in a process pay V8's compilation of the hot paths and the heap's growth: a run that is not measured goes first, so every variant is measured warm whatever the order.
    await runVariant(VARIANTS[args.variants[0]!]!, { ...ctx, args: { ...args, steps: args.quick ? 2 : WARM_UP_STEPS } });
    // Runs of the same variant swing by ±10% on a shared 2-core machine (the first one measured in a process is the slowest): with --repeat the variants take turns and each is shown by its median run.
    const runs: VariantResult[][] = args.variants.map(() => []);
    for (let k = 0; k < args.repeat; k++) for (const [i, v] of args.variants.entries()) runs[i]!.push(await runVariant(VARIANTS[v]!, ctx));
    const rate = (r: VariantResult) => completionsPerSecondOf(r, G);
    const results = runs.map((list) => [...list].sort((a, b) => rate(a) - rate(b))[Math.floor((list.length - 1) / 2)]!);
    const components = await measureComponents({
      config: toConfig({ runId: 'components', steps: 1, manifest, runsDir, urls: ctx.urls, trainer: { kind: 'url', url: trainer.url } }),
      fleetUrls: ctx.urls,
      model: MODEL,
      trainerUrl: trainer.url,
      redis: producer,
      rounds: args.quick ? 20 : 200,
    });
    const redisVersion = /redis_version:(\S+)/.exec(await producer.info('server'))?.[1] ?? '?';
    const report = {
      title:
        `bench/pipeline${args.quick ? ' (quick)' : ''}: G=${G} × ${PAIRS} pairs per step, ${args.servers} fake vLLM servers (zero latency: 100,000 slots, 1e9 tokens/s, no prefill), ` +
        `${args.size}×${args.size} PNG pairs (${args.manifestPairs.toLocaleString('en-US')} in the manifest), redis ${redisVersion} (embedded, through its unix socket when it has one), node ${process.version}, ${availableParallelism()} cores`,
      note:
        `steps ${args.warmup}..${args.warmup + args.steps - 1} of each run are measured; the first ${args.warmup} warm up (context build, fleet probe, first encodes), after a run of ${args.quick ? 2 : WARM_UP_STEPS} steps that is not measured (V8 compiles the hot paths). ` +
        `1-min load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`,
      goal: GOAL,
      completionsPerStep: G * PAIRS,
      groupSize: G,
      servers: args.servers,
      results,
      ...(args.repeat > 1 ? { repeats: runs.map((list) => list.map(rate)) } : {}),
      components,
    };
    printReport(report, await loadBaseline());
    if (args.saveBaseline) {
      const { file, commit, note } = args.saveBaseline;
      await writeFile(file, `${JSON.stringify({ commit, note, variants: summarize(report) } satisfies Baseline, null, 2)}\n`);
    }
  } finally {
    for (const close of cleanup.reverse()) await close();
  }
}

await main();
