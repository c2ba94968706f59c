import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainConfig } from '@differad/config';
import { trainRun, type TrainRunResult } from '@differad/orchestrator';
import { connectRedis, type EmbeddedRedis, startEmbeddedRedis } from '@differad/queue';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { CLI_BIN } from './run-cli.js';

/** The training data of a test: a small synthetic set made the way `npm run demo` makes it. */
export interface TrainData {
  /** Training manifest (absolute). */
  readonly train: string;
  /** Held-out manifest (absolute). */
  readonly heldOut: string;
}

/** Every `differad` process and redis-server a test started, killed by PID in afterEach/afterAll. */
const started = new Set<number>();

/** A running `differad` child. */
export interface DifferadProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  /** The first match of `pattern` on stdout, else on stderr (the log lines), now or later; rejects when the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment of a child: ours without any DIFFERAD_ variable (they would leak into its config), plus `env`. */
function toChildEnv(env: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DIFFERAD_')));
  return { ...clean, ...env };
}

/** Starts the real `differad` executable; it is killed by {@link killStarted} if still running. */
export function startDifferad(args: readonly string[], options: { cwd: string; env?: Readonly<Record<string, string>> }): DifferadProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd,
    env: toChildEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`differad ${args.join(' ')} did not start`);
  const pid = child.pid;
  started.add(pid);
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of [...watchers]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of [...watchers]) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      started.delete(pid);
      resolve({ code, signal });
    });
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        // Diagnostics (Redis, servers, the worker's start) are log lines on stderr; the step table is on stdout.
        const m = out.match(pattern) ?? err.match(pattern);
        if (!m) return;
        watchers.delete(check);
        resolve(m);
      };
      watchers.add(check);
      check();
      void exited.then((r) => {
        if (!watchers.has(check)) return;
        watchers.delete(check);
        reject(
          new Error(`differad ${args[0]} exited (${r.code ?? r.signal}) before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`),
        );
      });
    });
  return { child, pid, stdout: () => out, stderr: () => err, waitFor, exited };
}

/** Runs `differad` to the end. */
export async function runDifferad(
  args: readonly string[],
  options: { cwd: string; env?: Readonly<Record<string, string>> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startDifferad(args, options);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Records a process the test started by other means (a redis-server), so {@link killStarted} ends it too. */
export function trackPid(pid: number): void {
  started.add(pid);
}

/** The state letter of a Linux process (`Z` for a zombie), or null when there is none with this PID. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

/** Whether a process with this PID runs (an exited one its parent has not reaped yet does not). */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== 'Z' && state !== 'X';
}

/** PIDs of the children of `pid` (a `differad train`'s embedded redis-server, which SIGKILL would orphan). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** SIGKILLs every process the test started that is still running, and their children, each by its PID. */
export function killStarted(): void {
  for (const pid of started) {
    started.delete(pid);
    if (!isAlive(pid)) continue;
    const children = childrenOf(pid);
    process.kill(pid, 'SIGKILL');
    for (const child of children) if (isAlive(child)) process.kill(child, 'SIGKILL');
  }
}

/** Polls `check` every 25 ms until it returns a value other than undefined; for files and PIDs, which have no events. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Makes a small synthetic train and held-out set under `dir` with the real
 * CLI, as `npm run demo` does: `differad example --normals-only`, then
 * `differad synth` twice (64 px, a dozen pairs: a few seconds in all).
 */
export async function makeTrainData(dir: string, counts: { train?: number; heldOut?: number } = {}): Promise<TrainData> {
  const example = await runDifferad(['example', '--out', 'products', '--pairs', '4', '--normals-only', '--force'], { cwd: dir });
  if (example.code !== 0) throw new Error(`differad example failed: ${example.stderr}`);
  const synth = (out: string, count: number, seed: number) =>
    runDifferad(
      [
        'synth',
        '--normals',
        'products/normals',
        '--out',
        out,
        '--count',
        String(count),
        '--size',
        '64',
        '--seed',
        String(seed),
        '--max-rotation',
        '0.5',
        '--brightness-jitter',
        '0.03',
        '--force',
      ],
      { cwd: dir },
    );
  const made = await Promise.all([synth('synth-train', counts.train ?? 12, 1), synth('synth-heldout', counts.heldOut ?? 6, 2)]);
  for (const m of made) if (m.code !== 0) throw new Error(`differad synth failed: ${m.stderr}`);
  return { train: join(dir, 'synth-train', 'manifest.jsonl'), heldOut: join(dir, 'synth-heldout', 'manifest.jsonl') };
}

/** What {@link useTrainFixture} made for a test file; read it inside tests and hooks (it exists once the file's beforeAll ran). */
export interface TrainFixture {
  /** The file's temporary folder, removed after all its tests. */
  readonly dir: string;
  readonly data: TrainData;
  /** A redis-server of the file's own (with `redis: true`), for `DIFFERAD_REDIS_URL`. */
  readonly redis: EmbeddedRedis;
  /** A producer connection to {@link TrainFixture.redis}, to read the run store between and after runs. */
  readonly client: Redis;
}

/**
 * Registers the hooks every train e2e file needs and returns their results:
 * beforeAll makes a temporary folder `<tmp>/<prefix>…` with {@link makeTrainData}
 * in it (and with `redis: true` starts an embedded redis-server with a
 * producer client), afterEach {@link killStarted}, afterAll stops and removes
 * it all. Call it at the top of the file, before the file's own hooks: those
 * then run after its beforeAll and before its afterEach and afterAll.
 */
export function useTrainFixture(
  prefix: string,
  options: { redis?: boolean; counts?: { train?: number; heldOut?: number } } = {},
): TrainFixture {
  let dir: string | undefined;
  let data: TrainData | undefined;
  let redis: EmbeddedRedis | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    data = await makeTrainData(dir, options.counts);
    if (options.redis !== true) return;
    redis = await startEmbeddedRedis();
    client = await connectRedis(redis.url, 'producer');
  }, 30_000);
  afterEach(() => killStarted());
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(
        `useTrainFixture('${prefix}'): no ${what} yet (its beforeAll makes it${what === 'redis' || what === 'client' ? ', given { redis: true }' : ''})`,
      );
    return value;
  };
  return {
    get dir() {
      return ready(dir, 'dir');
    },
    get data() {
      return ready(data, 'data');
    },
    get redis() {
      return ready(redis, 'redis');
    },
    get client() {
      return ready(client, 'client');
    },
  };
}

/**
 * Cleanups a test registers as it starts things (servers, proxies, trainers),
 * run after each test in reverse order. Call it at the top of the file.
 */
export function useCleanups(): (cleanup: () => Promise<void>) => void {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return (cleanup) => void cleanups.push(cleanup);
}

/** Runs `differad train`'s loop in this process (`trainRun`) on the fixture's Redis, collecting its log lines. */
export async function trainInProcess(fixture: TrainFixture, config: TrainConfig): Promise<{ result: TrainRunResult; lines: string[] }> {
  const lines: string[] = [];
  const result = await trainRun({
    config,
    env: { DIFFERAD_REDIS_URL: fixture.redis.url },
    log: (line) => lines.push(line),
    signal: new AbortController().signal,
  });
  return { result, lines };
}

/** Writes a training config; JSON is YAML, so the file is read like any `--config FILE.yaml`. */
export async function writeTrainConfig(dir: string, name: string, config: Readonly<Record<string, unknown>>): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** One row of `metrics.jsonl`. */
export type MetricsRow = Readonly<Record<string, number | null>>;

/** The rows of a run's `metrics.jsonl` ([] when it does not exist yet). */
export async function readMetricsFile(file: string): Promise<MetricsRow[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as MetricsRow);
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function findClosedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The second image of a chat request (the target), or null. */
export function toTargetImage(body: Readonly<Record<string, unknown>>): string | null {
  const messages = (body.messages ?? []) as { content?: unknown }[];
  const images: string[] = [];
  for (const m of messages) {
    if (!Array.isArray(m.content)) continue;
    for (const part of m.content as { type?: string; image_url?: { url?: string } }[]) {
      if (part.type === 'image_url' && typeof part.image_url?.url === 'string') images.push(part.image_url.url);
    }
  }
  return images[1] ?? null;
}
