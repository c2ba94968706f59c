/**
 * bench/fleet — the fleet client against fake vLLM servers of mixed speeds
 * (every fourth server 3× slower), beside a naive fixed-concurrency
 * round-robin client, on the same fixed workload in the same run. Prints
 * completions/s and utilization of the fleet's modelled capacity
 * (Σ slots × decode rate, in tokens/s); figures only, never pass/fail.
 *
 *   npm run bench:fleet                # ~10 s of work per client and fleet size
 *   npm run bench:fleet -- --quick     # ~2.5 s, to prove it runs
 *   npm run bench:fleet -- --sizes 4,16 --seconds 30
 *
 * "overall" divides by the whole wall time (ramp-up and drain included);
 * "steady" counts tokens finished between 15% and 85% of the wall time.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type CompletionRequest, createFleet } from '@differad/inference';
import { createPngDataUrl, type FakeVllmOptions } from '@differad/testing';
import { type Finished, runNaive } from './naive-client.js';

const sizesAt = process.argv.indexOf('--sizes');
const SIZES = sizesAt > 0 ? (process.argv[sizesAt + 1] ?? '').split(',').map(Number) : [1, 4, 16];
if (SIZES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes needs a comma-separated list of server counts, e.g. 1,4,16');
const SLOTS = 32;
const RATE = 200;
const N = 8;
const PREFILL_MS = 0.5;
const MODEL = 'bench-model';
const ANSWER = '<think>The target differs near the edge.</think><answer>(120,340),(260,480)</answer>';

const quick = process.argv.includes('--quick');
const secondsAt = process.argv.indexOf('--seconds');
const seconds = secondsAt > 0 ? Number(process.argv[secondsAt + 1]) : quick ? 2.5 : 10;
if (!(seconds > 0)) throw new Error('--seconds needs a positive number');

const isSlow = (k: number) => k % 4 === 3;
const specsFor = (size: number): FakeVllmOptions[] =>
  Array.from({ length: size }, (_, k) => ({
    model: MODEL,
    slots: SLOTS,
    tokensPerSecond: isSlow(k) ? RATE / 3 : RATE,
    prefillMsPerImage: PREFILL_MS,
    policy: 'constant',
    constantText: ANSWER,
    seed: k,
  }));

/** Starts the fakes in a child process and returns their URLs and a stop function. */
async function startHost(specs: FakeVllmOptions[]): Promise<{ urls: string[]; stop: () => Promise<void> }> {
  const host = fileURLToPath(new URL('./fake-host.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', host, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { urls } = JSON.parse(line) as { urls: string[] };
  return {
    urls,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Figures {
  readonly completionsPerSecond: number;
  readonly overall: number;
  readonly steady: number;
}

function toFigures(finished: readonly Finished[], t0: number, capacity: number): Figures {
  const wall = (Math.max(...finished.map((f) => f.at)) - t0) / 1000;
  const tokens = finished.reduce((a, f) => a + f.tokens, 0);
  const lo = t0 + 0.15 * wall * 1000;
  const hi = t0 + 0.85 * wall * 1000;
  const steadyTokens = finished.filter((f) => f.at > lo && f.at <= hi).reduce((a, f) => a + f.tokens, 0);
  return {
    completionsPerSecond: (finished.length * N) / wall,
    overall: tokens / wall / capacity,
    steady: steadyTokens / (0.7 * wall) / capacity,
  };
}

async function runFleet(
  urls: string[],
  requests: readonly CompletionRequest[],
): Promise<{ finished: Finished[]; limits: string; retries: number }> {
  const fleet = createFleet({ servers: urls, model: MODEL, metricsIntervalMs: 250, timeoutMs: 60_000 });
  await fleet.start();
  const finished: Finished[] = [];
  let retries = 0;
  try {
    await Promise.all(
      requests.map(async (r) => {
        const result = await fleet.complete(r);
        retries += result.attempts - 1;
        finished.push({ at: performance.now(), tokens: result.completions.reduce((a, c) => a + (c.tokenIds?.length ?? 0), 0) });
      }),
    );
    const s = fleet.stats().servers;
    const mean = (xs: number[]) => (xs.length === 0 ? '—' : (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(0));
    const limits = `limit fast ${mean(s.filter((_, k) => !isSlow(k)).map((x) => x.concurrencyLimit))}, slow ${mean(s.filter((_, k) => isSlow(k)).map((x) => x.concurrencyLimit))}`;
    return { finished, limits, retries };
  } finally {
    await fleet.close();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(7);

async function main(): Promise<void> {
  const reference = createPngDataUrl({ width: 32, height: 32, color: [180, 180, 180] });
  const target = createPngDataUrl({ width: 32, height: 32, color: [180, 180, 180], patch: [8, 8, 16, 16] });
  const tokensPerCompletion = ANSWER.match(/[A-Za-z]+|\d|\s+|[^A-Za-z\d\s]/g)!.length;
  console.log(
    `bench/fleet${quick ? ' (quick)' : ''}: n=${N} per request, ${tokensPerCompletion} tokens per completion, ${SLOTS} slots × ${RATE} tokens/s per server ` +
      `(every 4th 3× slower), prefill ${PREFILL_MS} ms/image; ~${seconds} s of work per client; node ${process.version}`,
  );
  console.log(
    `${'servers'.padEnd(8)}${'slow'.padStart(5)}${'capacity tok/s'.padStart(16)}${'requests'.padStart(10)} │ ${'fleet compl/s'.padStart(13)}${'overall'.padStart(8)}${'steady'.padStart(8)} │ ${'naive compl/s'.padStart(13)}${'overall'.padStart(8)}${'steady'.padStart(8)} │ fleet/naive`,
  );
  for (const size of SIZES) {
    const specs = specsFor(size);
    const capacity = specs.reduce((a, s) => a + SLOTS * (s.tokensPerSecond ?? RATE), 0);
    const requestsPerSecond = capacity / (N * tokensPerCompletion);
    const count = Math.round(seconds * requestsPerSecond);
    const requests: CompletionRequest[] = Array.from({ length: count }, (_, k) => ({
      requestId: `bench-${k}`,
      referenceImage: reference,
      targetImage: target,
      prompt: 'Compare the target with the reference and box the anomaly.',
      n: N,
      seed: k,
      sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 256 },
    }));
    const host = await startHost(specs);
    try {
      let t0 = performance.now();
      const fleet = await runFleet(host.urls, requests);
      const f = toFigures(fleet.finished, t0, capacity);
      t0 = performance.now();
      const naive = toFigures(await runNaive(host.urls, MODEL, requests, (size * SLOTS) / N), t0, capacity);
      console.log(
        `${String(size).padEnd(8)}${String(specs.filter((_, k) => isSlow(k)).length).padStart(5)}${capacity.toFixed(0).padStart(16)}${String(count).padStart(10)} │ ` +
          `${f.completionsPerSecond.toFixed(0).padStart(13)}${pct(f.overall)} ${pct(f.steady)} │ ${naive.completionsPerSecond.toFixed(0).padStart(13)}${pct(naive.overall)} ${pct(naive.steady)} │ ` +
          `${(f.completionsPerSecond / naive.completionsPerSecond).toFixed(2)}×   (${fleet.limits}; retries ${fleet.retries})`,
      );
    } finally {
      await host.stop();
    }
  }
  console.log(
    `naive = ${SLOTS / N} requests in flight per server (Σ slots / n workers), round-robin; fleet = createFleet defaults, /metrics every 250 ms`,
  );
}

await main();
