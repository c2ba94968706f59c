/**
 * Child process of bench/fleet: starts the fake servers described by the JSON
 * in argv[2], prints their URLs as one JSON line, answers each `cpu` line on
 * stdin with its CPU time so far (µs) and its event-loop delay since the
 * previous `cpu` line (mean and p99 lateness of a timer, ms: late timers make
 * the fakes slower than modelled), as one JSON line, and stops on SIGTERM. Keeps the servers'
 * work off the client's event loop.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { type FakeVllmOptions, startFakeFleet } from '@differad/testing';

const specs = JSON.parse(process.argv[2] ?? '[]') as FakeVllmOptions[];
const fleet = await startFakeFleet(specs);
process.stdout.write(`${JSON.stringify({ urls: fleet.urls })}\n`);
const RESOLUTION_MS = 5;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  // The histogram holds whole sampling intervals: the delay is what exceeds the resolution.
  const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  const delay = { meanMs: late(loop.mean), p99Ms: late(loop.percentile(99)) };
  loop.reset();
  process.stdout.write(`${JSON.stringify({ cpuMicros: user + system, delay })}\n`);
});
process.once('SIGTERM', () => {
  void fleet.close().then(() => process.exit(0));
});
