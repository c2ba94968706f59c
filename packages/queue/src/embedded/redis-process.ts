import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { DifferadError } from '@differad/core';
import { QUEUE_ERROR_CODES } from '../errors/queue-errors.js';

/** How a spawned redis-server ended its start. */
export type StartOutcome =
  | { readonly kind: 'ready' }
  | { readonly kind: 'port-taken' }
  | { readonly kind: 'failed'; readonly error: DifferadError };

/** What {@link spawnRedisServer} needs. */
export interface SpawnRequest {
  readonly binary: string;
  readonly port: number;
  readonly host: string;
  readonly dir: string;
  /** A unix socket to listen on as well (mode 700: this user only), or null for TCP alone. */
  readonly socket: string | null;
  readonly readyTimeoutMs: number;
}

/** A running (or starting) redis-server child and the last lines it printed. */
export interface RedisChild {
  readonly child: ChildProcess;
  readonly started: Promise<StartOutcome>;
  readonly exited: Promise<void>;
  tail(): string;
}

const READY_LINE = 'Ready to accept connections';
/** What redis-server prints when it cannot listen on its unix socket. */
export const SOCKET_FAILED = 'Failed opening Unix socket';
const TAIL_LINES = 20;

/**
 * The arguments of a private server: loopback only, AOF on with one fsync a
 * second (a crash loses at most ~1 s of queue state), no RDB snapshots, logs on
 * stdout so readiness is an event rather than a poll; with `socket`, a unix
 * socket too that only this user may open.
 */
export function toRedisArgs(port: number, host: string, dir: string, socket: string | null = null): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    host,
    '--protected-mode',
    'yes',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    '',
    // BullMQ needs every key kept: an evicted job key corrupts a queue.
    '--maxmemory-policy',
    'noeviction',
    ...(socket === null ? [] : ['--unixsocket', socket, '--unixsocketperm', '700']),
  ];
}

/** The error for a missing binary: exactly how to install it, or how to use another Redis. */
export function toMissingError(binary: string, cause?: unknown): DifferadError {
  return new DifferadError(
    QUEUE_ERROR_CODES.REDIS_MISSING,
    `redis-server was not found (tried ${JSON.stringify(binary)}); it runs the private Redis used when DIFFERAD_REDIS_URL is not set. ` +
      'Install it with `apt-get install -y redis-server` (Debian/Ubuntu, as root; `brew install redis` on macOS), ' +
      'or set DIFFERAD_REDIS_URL=redis://host:6379 to use a Redis you run.',
    { cause, details: { binary } },
  );
}

function startFailed(message: string, tail: string, cause?: unknown): DifferadError {
  return new DifferadError(QUEUE_ERROR_CODES.REDIS_START_FAILED, `${message}${tail === '' ? '' : `; its last output:\n${tail}`}`, {
    cause,
    details: { tail },
  });
}

/** Stops `stream` from keeping the event loop alive while still draining it. */
function unrefStream(stream: unknown): void {
  if (stream instanceof Socket) stream.unref();
}

/**
 * Spawns redis-server and settles `started` on the first of: its "Ready to
 * accept connections" line, "Address already in use", an early exit, a spawn
 * error (ENOENT → QUEUE_REDIS_MISSING) or the deadline (the child is then killed).
 */
export function spawnRedisServer(request: SpawnRequest): RedisChild {
  const child = spawn(request.binary, toRedisArgs(request.port, request.host, request.dir, request.socket), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const tail = (): string => lines.join('\n');
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const started = new Promise<StartOutcome>((resolve) => {
    let portTaken = false;
    const settle = (outcome: StartOutcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle({ kind: 'failed', error: startFailed(`redis-server did not get ready within ${request.readyTimeoutMs} ms`, tail()) });
    }, request.readyTimeoutMs);
    const onLine = (line: string): void => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      if (line.includes(READY_LINE)) settle({ kind: 'ready' });
      // The TCP port, not the unix socket (whose failure is its own: the caller then starts without it).
      if (line.includes('Address already in use') && !line.includes(SOCKET_FAILED)) portTaken = true;
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on('line', onLine);
    }
    // 'on', not 'once': a later error (say, a failed kill) must not go unhandled; settling twice is a no-op.
    child.on('error', (error: NodeJS.ErrnoException) => {
      settle({
        kind: 'failed',
        error:
          error.code === 'ENOENT'
            ? toMissingError(request.binary, error)
            : startFailed(`could not run ${request.binary}: ${error.message}`, tail(), error),
      });
    });
    // 'close', not 'exit': by then every line it printed has been read.
    child.once('close', (code, signal) => {
      if (portTaken) settle({ kind: 'port-taken' });
      else settle({ kind: 'failed', error: startFailed(`redis-server exited (${signal ?? `code ${code}`}) before it was ready`, tail()) });
    });
  });
  void started.then((outcome) => {
    if (outcome.kind !== 'ready') return;
    child.unref();
    unrefStream(child.stdout);
    unrefStream(child.stderr);
  });
  return { child, started, exited, tail };
}
