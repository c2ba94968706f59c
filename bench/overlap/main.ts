/**
 * bench/overlap — the serial loop (grpo.maxStaleness 0) and the overlapped
 * one (1) side by side on the same simulated work (bench/overlap/sim.ts: the
 * fake vLLM's capacity model, a trainer whose step time scales with tokens,
 * in-flight updates), at stated ratios of a step's generation : training :
 * sync time, with 4 and 16 servers. Prints steps/s, completions/s (trained),
 * the fleet's busy share (the servers' own decoding slot-time) over the run
 * and steady (from the first training to the last completion decoded: what
 * a long run tends to), the trainer's
 * busy share, the staleness histogram and overlapped ÷ serial; figures only,
 * never pass/fail. Virtual time, so it reruns to the same figures anywhere.
 *
 *   npm run bench:overlap               # 40 steps per run
 *   npm run bench:overlap -- --quick    # 10 steps, to prove it runs
 *   npm run bench:overlap -- --steps 100 --staleness 2
 *   npm run bench:overlap -- --pause-share 0.5   # a disk sync: the fleet pauses only for the servers' load
 *   npm run bench:overlap -- --generation decoding  # "generation" = the fleet's decoding work, tail left out
 *
 * "generation" is the serial makespan of one step's rollouts on the fleet
 * (its ramp-up and drain tail included); training and sync are set to the
 * stated multiples of it. With `--generation decoding` it is the step's
 * decoding alone (slot-time at full fleet): the same work, a trainer ~7%
 * faster, the fleet's ceiling at 1 : 1 : 0.1 then 1 ÷ 1.1 = 90.9%. Each
 * overlapped row also prints the fleet's
 * ceiling: its decoding per step over the shortest period a step can take,
 * since a trainer that sets the pace (1 : 1 : 0.1) leaves the fleet idle for
 * the rest whatever the schedule. A last section samples a quarter of the
 * groups once more (groups whose rewards do not vary) and serves waiting
 * requests in arrival order or oldest step first, as the fleet does with a
 * rollout's step as its priority.
 */
import { type SimResult, type SimSettings, simulate } from './sim.js';

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const STEPS = Number(arg('--steps') ?? (quick ? 10 : 40));
const STALENESS = Number(arg('--staleness') ?? 1);
// The share of a sync the fleet waits paused: 1 as in an nccl sync; a disk sync pauses it for the servers' load only.
const PAUSE_SHARE = Number(arg('--pause-share') ?? 1);
if (!Number.isInteger(STEPS) || STEPS < 2) throw new Error('--steps needs an integer of at least 2');
if (!Number.isInteger(STALENESS) || STALENESS < 1) throw new Error('--staleness needs an integer of at least 1');
// What one unit of the ratios is: the serial makespan of a step's generation (default) or its decoding work alone.
const GENERATION = arg('--generation') ?? 'makespan';
if (GENERATION !== 'makespan' && GENERATION !== 'decoding') throw new Error('--generation needs makespan or decoding');
if (!(PAUSE_SHARE > 0 && PAUSE_SHARE <= 1))
  throw new Error('--pause-share needs a number in (0, 1], the share of a sync that pauses the fleet');

const RATIOS: readonly (readonly [number, number, number])[] = [
  [1, 1, 0.1],
  [1, 0.3, 0.05],
];
const SIZES = [4, 16];
// The fake vLLM's defaults (bench/fleet): 32 slots, 200 tokens/s per sequence; G = 8; a step is 4 waves of the fleet's slots.
const SLOTS = 32;
const G = 8;

/**
 * The most of its time the fleet can decode in the overlapped mode: a step's
 * decoding (slot-time at full fleet, the drain tail left out) over the
 * shortest period a step can take — the trainer's step plus the sync, or the
 * fleet's decoding plus the sync's pause, whichever is longer.
 */
function fleetCeiling(s: SimSettings, decodeMs: number, generationMs: number, ratio: readonly [number, number, number]): number {
  const train = ratio[1] * generationMs;
  return decodeMs / Math.max(train + s.syncMs, decodeMs + (s.pauseShare ?? 1) * s.syncMs);
}

function settingsFor(
  servers: number,
  ratio: readonly [number, number, number],
): { settings: SimSettings; decodeMs: number; generationMs: number } {
  const base: SimSettings = {
    servers,
    slotsPerServer: SLOTS,
    msPerToken: 5,
    pairsPerStep: (4 * servers * SLOTS) / G,
    groupSize: G,
    minTokens: 48,
    maxTokens: 256,
    steps: 1,
    maxStaleness: 0,
    trainerMsPerToken: 0,
    syncMs: 0,
    seed: 7,
  };
  // One step generated alone: its makespan (or its decoding) is "generation", and its tokens set the trainer's time per token.
  const one = simulate(base);
  const tokens = (one.completions * (base.minTokens + base.maxTokens)) / 2;
  const decodeMs = one.fleetBusy * one.wallMs;
  const generationMs = GENERATION === 'decoding' ? decodeMs : one.wallMs;
  return {
    settings: {
      ...base,
      steps: STEPS,
      trainerMsPerToken: (ratio[1] * generationMs) / tokens,
      syncMs: ratio[2] * generationMs,
      pauseShare: PAUSE_SHARE,
    },
    decodeMs,
    generationMs,
  };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(2);

function row(name: string, s: SimSettings, r: SimResult): string {
  const trained = STEPS * s.pairsPerStep * s.groupSize;
  const total = r.staleness.reduce((a, b) => a + b, 0);
  const mean = r.staleness.reduce((a, n, age) => a + n * age, 0) / Math.max(1, total);
  const hist = r.staleness.map((n) => `${((n / Math.max(1, total)) * 100).toFixed(0)}%`).join('/');
  return `  ${name.padEnd(12)} ${rate(STEPS, r.wallMs).padStart(8)} ${rate(trained, r.wallMs).padStart(10)} ${pct(r.fleetBusy).padStart(7)} ${(Number.isNaN(r.fleetBusySteady) ? '—' : pct(r.fleetBusySteady)).padStart(7)} ${pct(r.trainerBusy).padStart(8)}   ${mean.toFixed(2)} (${hist}) regen ${r.regenerated}, spanning ${r.spanning}`;
}

console.log(
  `bench/overlap: ${STEPS} steps per run, "generation" = ${GENERATION === 'decoding' ? "a step's decoding on the full fleet (drain tail left out)" : "a step's serial makespan on the fleet"}, G=${G}, ${SLOTS} slots per server at 200 tokens/s, completions of 48–256 tokens; overlapped = grpo.maxStaleness ${STALENESS} with in-flight (keep) updates; a sync pauses the fleet for ${PAUSE_SHARE === 1 ? 'all of it (nccl; --pause-share S for a disk sync, paused only to load)' : `its last ${(PAUSE_SHARE * 100).toFixed(0)}% (the servers' load of a disk sync)`}`,
);
for (const ratio of RATIOS) {
  for (const servers of SIZES) {
    const { settings: s, decodeMs, generationMs } = settingsFor(servers, ratio);
    const ceiling = fleetCeiling(s, decodeMs, generationMs, ratio);
    const serial = simulate({ ...s, maxStaleness: 0 });
    const overlapped = simulate({ ...s, maxStaleness: STALENESS });
    console.log(
      `\ngeneration : training : sync = ${ratio.join(' : ')}, ${servers} servers (${s.pairsPerStep} pairs a step; training ${(s.trainerMsPerToken * 1000).toFixed(2)} µs/token, sync ${s.syncMs.toFixed(0)} ms)`,
    );
    console.log(
      `  ${'mode'.padEnd(12)} ${'steps/s'.padStart(8)} ${'compl/s'.padStart(10)} ${'fleet'.padStart(7)} ${'steady'.padStart(7)} ${'trainer'.padStart(8)}   staleness mean (share at age 0/1/…)`,
    );
    console.log(row('serial', s, serial));
    console.log(row('overlapped', s, overlapped));
    const speedup = serial.wallMs / overlapped.wallMs;
    const goals =
      ratio[1] === 1 && ratio[2] === 0.1
        ? `   goals at 1 : 1 : 0.1: fleet ≥ 90% (${pct(overlapped.fleetBusy)} over the run, ${pct(overlapped.fleetBusySteady)} steady; ${pct(ceiling)} at most, see below), trainer ≥ 80% (${pct(overlapped.trainerBusy)}), ≥ 1.7× serial steps/s (${speedup.toFixed(2)}×)`
        : '';
    console.log(
      `  overlapped fleet ceiling ${pct(ceiling)}: a step's decoding ${(decodeMs / generationMs).toFixed(2)} ÷ max(training + sync ${(ratio[1] + ratio[2]).toFixed(2)}, decoding + sync pause ${((decodeMs + PAUSE_SHARE * s.syncMs) / generationMs).toFixed(2)}), in units of one step's generation\n` +
        `  overlapped ÷ serial: ${speedup.toFixed(2)}× steps/s, fleet busy ${(overlapped.fleetBusy / serial.fleetBusy).toFixed(2)}×, trainer busy ${(overlapped.trainerBusy / serial.trainerBusy).toFixed(2)}×${goals ? `\n${goals}` : ''}`,
    );
  }
}

// Resamples in the overlapped mode: a zero-variance group sampled once more must not wait behind the rollouts of the steps after it.
const RESAMPLE_RATE = 0.25;
console.log(
  `\nwith ${RESAMPLE_RATE * 100}% of first samplings sampled once more (groups whose rewards do not vary), overlapped at 1 : 1 : 0.1: waiting requests served in arrival order, or the oldest step first (the fleet's request priority, a rollout's step: what differad does)`,
);
for (const servers of SIZES) {
  const { settings } = settingsFor(servers, [1, 1, 0.1]);
  const base = { ...settings, maxStaleness: STALENESS, resampleRate: RESAMPLE_RATE };
  const fifo = simulate({ ...base, order: 'fifo' });
  const byStep = simulate({ ...base, order: 'step' });
  console.log(`  ${servers} servers`);
  console.log(row('FIFO', settings, fifo));
  console.log(row('oldest step', settings, byStep));
  console.log(
    `  oldest step ÷ FIFO: ${(fifo.wallMs / byStep.wallMs).toFixed(2)}× steps/s, trainer busy ${(byStep.trainerBusy / fifo.trainerBusy).toFixed(2)}×`,
  );
}
