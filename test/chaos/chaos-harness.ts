import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { connectRedis } from '@differad/queue';
import type { DifferadProcess, MetricsRow } from '../e2e/train-harness.js';
import { killStarted, trackPid } from '../e2e/train-harness.js';

/** How a `differad` process ended, and how long after `since` it did. */
export interface TimedExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly ms: number;
}

/**
 * The exit of `p`, which must come within `limitMs` of `since` (Date.now()
 * values): a process still running then is killed and the test fails with
 * what it printed. The bound is what these tests are about: no wait without a deadline.
 */
export async function exitWithin(p: DifferadProcess, limitMs: number, since = Date.now()): Promise<TimedExit> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(0, since + limitMs - Date.now()));
  });
  const exit = await Promise.race([p.exited, late]);
  clearTimeout(timer);
  if (exit === null) {
    killStarted();
    throw new Error(`differad did not exit within ${limitMs} ms\nstdout:\n${p.stdout()}\nstderr:\n${p.stderr()}`);
  }
  return { ...exit, ms: Date.now() - since };
}

/** A plain redis-server without persistence on `port`: what an external Redis that restarts empty looks like. */
export function startVolatileRedis(port: number): Promise<{ pid: number; url: string }> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', ''],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.pid === undefined) throw new Error('redis-server did not start');
  const pid = child.pid;
  trackPid(pid);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`redis-server on ${port} exited (${signal ?? code}) before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve({ pid, url: `redis://127.0.0.1:${port}` });
    });
  });
}

/** The PID of the redis-server at `url` (from INFO). */
export async function redisPid(url: string): Promise<number> {
  const client = await connectRedis(url, 'producer');
  try {
    const pid = /process_id:(\d+)/.exec(await client.info('server'))?.[1];
    if (pid === undefined) throw new Error(`no process_id in INFO of ${url}`);
    return Number(pid);
  } finally {
    client.disconnect();
  }
}

/** A metrics row without its timings (`*_ms`), which differ from run to run. */
export function withoutTimings(row: MetricsRow): Record<string, number | null> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !k.endsWith('_ms')));
}

/** The regular expression of step `step`'s row in the printed step table. */
export function stepRow(step: number): RegExp {
  return new RegExp(`^\\s+${step}\\s+\\d+\\.\\d{3}\\s`, 'm');
}
