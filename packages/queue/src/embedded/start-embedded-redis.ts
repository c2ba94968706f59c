import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DifferadError } from '@differad/core';
import { QUEUE_ERROR_CODES } from '../errors/queue-errors.js';
import { pingRedis } from '../connection/redis-connection.js';
import { MAX_SOCKET_PATH_BYTES, toSocketUrl } from '../connection/redis-url.js';
import { findFreePort } from './free-port.js';
import { SOCKET_FAILED, spawnRedisServer, type RedisChild } from './redis-process.js';

/** Options of {@link startEmbeddedRedis}. */
export interface EmbeddedRedisOptions {
  /**
   * Data directory (AOF lives here). Pass a lasting one (e.g. under `runs/`)
   * so that `--resume` finds the queues after a restart; without it a temp dir
   * is made and removed again by `stop()`.
   */
  readonly dir?: string;
  /** The redis-server binary: a name looked up on PATH or a path (default `redis-server`). */
  readonly binary?: string;
  /** Deadline for the server to get ready (default 10 s). */
  readonly readyTimeoutMs?: number;
}

/** How the embedded server ended. */
export interface EmbeddedRedisExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A private redis-server child. */
export interface EmbeddedRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /**
   * `unix://<dir>/redis.sock`: the same server through a unix socket only
   * this user may open, which costs a client less CPU per command than
   * loopback TCP (what the processes on this machine use). Null when the
   * path would be longer than a socket path may be, another live server
   * listens there, or the server could not open it (a file system without
   * sockets): then TCP alone.
   */
  readonly socketUrl: string | null;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /**
   * Settles when the server process has exited, for whatever reason: after
   * `stop()`, or on its own (killed, crashed), which its users must notice —
   * reconnecting to a port nobody listens on again would wait forever.
   */
  readonly exited: Promise<EmbeddedRedisExit>;
  /** Shuts that one server down (SIGTERM, which fsyncs the AOF) and resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const PORT_TRIES = 3;
const STOP_GRACE_MS = 5000;
const SOCKET_NAME = 'redis.sock';

/** Children still running (with the temp dir to remove, if we made it), stopped at process exit by the one hook below. */
const running = new Map<ChildProcess, string | null>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a signal and a best-effort removal of our temp dirs is all there is time for.
  process.once('exit', () => {
    for (const [child, tempDir] of running) {
      child.kill('SIGTERM');
      if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true });
    }
  });
}

/** Whether a server answers a connection on the unix socket `path` (a file left by a killed one refuses it). */
function isListening(path: string): Promise<boolean> {
  return new Promise((done) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      done(true);
    });
    probe.once('error', () => done(false));
  });
}

/**
 * Where the server's socket goes in `dir`, or null when the path is too long
 * for a socket, or another live server listens there: redis-server replaces
 * the file at its path, which would send that server's new connections here.
 */
async function socketPathIn(dir: string): Promise<string | null> {
  const path = resolve(dir, SOCKET_NAME);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) return null;
  return (await isListening(path)) ? null : path;
}

/**
 * Spawns on a free port, trying another port when one is taken in between,
 * and without the socket when the server could not open it.
 */
async function spawnReady(
  binary: string,
  dir: string,
  readyTimeoutMs: number,
): Promise<{ redis: RedisChild; port: number; socket: string | null }> {
  let socket = await socketPathIn(dir);
  let portTries = 0;
  while (portTries < PORT_TRIES) {
    const port = await findFreePort(HOST);
    const redis = spawnRedisServer({ binary, port, host: HOST, dir, socket, readyTimeoutMs });
    const outcome = await redis.started;
    if (outcome.kind === 'ready') return { redis, port, socket };
    if (outcome.kind === 'port-taken') portTries += 1;
    else if (socket !== null && redis.tail().includes(SOCKET_FAILED)) socket = null;
    else throw outcome.error;
  }
  throw new DifferadError(QUEUE_ERROR_CODES.REDIS_START_FAILED, `redis-server found no free port on ${HOST} in ${PORT_TRIES} tries`);
}

/**
 * Starts a private `redis-server` on a free port of 127.0.0.1 with AOF
 * persistence in `dir` — the embedded default when no Redis URL is configured
 * (docs/architecture.md §8). Resolves once it has printed that it
 * is ready and answered PING. A missing binary throws QUEUE_REDIS_MISSING with
 * the install command; any other failed start QUEUE_REDIS_START_FAILED with its
 * last output. The server is also stopped when this process exits.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'differad-redis-')));
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let started: { redis: RedisChild; port: number; socket: string | null };
  try {
    started = await spawnReady(options.binary ?? 'redis-server', dir, readyTimeoutMs);
  } catch (error) {
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { redis, port, socket } = started;
  const child = redis.child;
  const pid = child.pid ?? -1;
  running.set(child, ownDir ? dir : null);
  const exited = new Promise<EmbeddedRedisExit>((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  child.once('exit', () => running.delete(child));
  installExitHook();
  const url = `redis://${HOST}:${port}`;
  const socketUrl = socket === null ? null : toSocketUrl(socket);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        child.kill('SIGTERM');
        await redis.exited;
        clearTimeout(force);
      }
      running.delete(child);
      if (ownDir) await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await pingRedis(url, readyTimeoutMs);
    if (socketUrl !== null) await pingRedis(socketUrl, readyTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, socketUrl, port, pid, dir, exited, stop };
}
