import { hostname } from 'node:os';
import { DifferadError } from '@differad/core';
import { type EmbeddedRedis, redactRedisUrl, type RunStore } from '@differad/queue';
import type { Redis } from 'ioredis';

/** How often the driving process records that it is alive (ms). */
export const HEARTBEAT_MS = 1_000;
/**
 * How long a heartbeat lasts (ms): a run stored as `running` whose process
 * has not beaten for this long reads as `interrupted` (docs/architecture.md §4.4).
 */
export const OWNER_TTL_MS = 5_000;

/** What {@link watchRun} watches. */
export interface RunWatchInput {
  readonly runId: string;
  readonly store: RunStore;
  readonly redisUrl: string;
  /** The coordinator's connections (producer, queue events): one down longer than `graceMs` stops the run. */
  readonly connections: readonly Redis[];
  /** The embedded redis-server, whose exit stops the run at once (it is not coming back). */
  readonly embedded: EmbeddedRedis | null;
  /** `run.redisGraceMs`. */
  readonly graceMs: number;
  readonly signal: AbortSignal;
  /** The command that continues the run, for the messages. */
  readonly resumeCommand: string;
  /** Another sign of a Redis that lost its data (e.g. the step job in flight is gone): a description, or null when all is there. */
  readonly checkData: () => Promise<string | null>;
  readonly heartbeatMs?: number;
  readonly ownerTtlMs?: number;
}

/** A running watch. */
export interface RunWatch {
  /**
   * Settles once the run must stop: resolves `'signal'` on the abort signal;
   * rejects with TRAIN_REDIS_LOST (resumable) or TRAIN_REDIS_DATA_LOST. Never
   * settles while all is well.
   */
  readonly stopped: Promise<'signal'>;
  /**
   * Resolves once every watched connection is ready again (at once when none
   * is down). While Redis is down for longer than the grace it never does:
   * `stopped` rejects instead.
   */
  whenUp(): Promise<void>;
  /**
   * The TRAIN_REDIS_DATA_LOST error of this run, for a loss found elsewhere
   * first (the step driver finding the run gone from the store mid-run).
   */
  dataLost(what: string): DifferadError;
  /** Stops watching and beating; `release` also drops the owner record (Redis reachable, the run stopped in order). */
  close(release: boolean): Promise<void>;
}

function lost(input: RunWatchInput, why: string): DifferadError {
  return new DifferadError(
    'TRAIN_REDIS_LOST',
    `${why}; run ${input.runId} stopped and is resumable: once Redis is back, continue with: ${input.resumeCommand}`,
    {
      retryable: true,
      details: { runId: input.runId, url: redactRedisUrl(input.redisUrl) },
    },
  );
}

function dataLost(input: RunWatchInput, what: string): DifferadError {
  return new DifferadError(
    'TRAIN_REDIS_DATA_LOST',
    `Redis at ${redactRedisUrl(input.redisUrl)} no longer holds run ${input.runId} (${what}): it restarted without its data (no AOF or RDB persistence?) or was flushed, ` +
      `so the run's queued jobs and progress are gone and it cannot go on from this Redis. Its metrics so far are in its run folder and the trainer keeps its checkpoints. ` +
      `Restore the Redis data and continue with: ${input.resumeCommand}; or start a new run. Run Redis with persistence (appendonly yes), as docker-compose.yml does.`,
    { details: { runId: input.runId, url: redactRedisUrl(input.redisUrl) } },
  );
}

/**
 * Watches what `differad train` waits on, so that no wait lasts forever
 * (docs/architecture.md §4.5): the stop signal, the coordinator's Redis
 * connections (down longer than `graceMs`), the embedded redis-server's
 * process, and the run's keys (a heartbeat that also finds a Redis that came
 * back empty). The heartbeat records this process as the run's owner.
 */
export function watchRun(input: RunWatchInput): RunWatch {
  const heartbeatMs = input.heartbeatMs ?? HEARTBEAT_MS;
  const ownerTtlMs = input.ownerTtlMs ?? OWNER_TTL_MS;
  const owner = { pid: process.pid, host: hostname() };
  const cleanups: (() => void)[] = [];
  const down = new Set<Redis>();
  let waiters: (() => void)[] = [];
  let closed = false;
  let settle: { resolve: (v: 'signal') => void; reject: (e: Error) => void } | undefined;
  const stopped = new Promise<'signal'>((resolve, reject) => (settle = { resolve, reject }));
  // A stop nobody awaits yet must not become an unhandled rejection.
  stopped.catch(() => undefined);
  const fail = (error: Error): void => {
    if (!closed) settle?.reject(error);
  };

  const onAbort = (): void => settle?.resolve('signal');
  if (input.signal.aborted) onAbort();
  input.signal.addEventListener('abort', onAbort, { once: true });
  cleanups.push(() => input.signal.removeEventListener('abort', onAbort));

  if (input.embedded) {
    const server = input.embedded;
    void server.exited.then((exit) =>
      fail(
        lost(
          input,
          `the embedded redis-server (pid ${server.pid}) exited (${exit.signal ?? `code ${exit.code}`}); its data stays in ${server.dir}`,
        ),
      ),
    );
  }

  const check = async (): Promise<void> => {
    let what: string | null;
    try {
      what = (await input.store.beat(input.runId, owner, ownerTtlMs)) ? await input.checkData() : "the run's state is gone";
    } catch {
      return; // Redis away: the connection watch decides.
    }
    if (what !== null) fail(dataLost(input, what));
  };
  let beating = false;
  const beat = (): void => {
    if (beating || closed) return;
    beating = true;
    void check().finally(() => (beating = false));
  };
  beat();
  const timer = setInterval(beat, heartbeatMs);
  cleanups.push(() => clearInterval(timer));

  for (const connection of input.connections) {
    let downTimer: NodeJS.Timeout | undefined;
    const onDown = (): void => {
      down.add(connection);
      downTimer ??= setTimeout(
        () => fail(lost(input, `Redis at ${redactRedisUrl(input.redisUrl)} has not answered for ${input.graceMs} ms (run.redisGraceMs)`)),
        input.graceMs,
      );
    };
    const onReady = (): void => {
      down.delete(connection);
      if (down.size === 0) {
        for (const wake of waiters) wake();
        waiters = [];
      }
      if (downTimer === undefined) return;
      clearTimeout(downTimer);
      downTimer = undefined;
      // Back: is it the same Redis, with the run still in it?
      beat();
    };
    connection.on('close', onDown);
    connection.on('ready', onReady);
    if (
      connection.status !== 'ready' &&
      connection.status !== 'connecting' &&
      connection.status !== 'connect' &&
      connection.status !== 'wait'
    )
      onDown();
    cleanups.push(() => {
      clearTimeout(downTimer);
      connection.off('close', onDown);
      connection.off('ready', onReady);
    });
  }

  return {
    stopped,
    whenUp() {
      return down.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
    dataLost(what) {
      return dataLost(input, what);
    },
    async close(release) {
      if (closed) return;
      closed = true;
      for (const cleanup of cleanups) cleanup();
      if (release) await input.store.releaseOwner(input.runId).catch(() => undefined);
    },
  };
}

/**
 * Whether `error` is a Redis command that failed because the connection is
 * down (ioredis gives up a producer's command after a few reconnects, or
 * refuses it while offline): a wait for Redis, not a failure of the run.
 */
export function isRedisConnectionError(error: unknown): boolean {
  // Along the cause chain: a step failure explained with a lookup that failed too wraps the connection error.
  // Socket errors count by their errno `code`, which only this process's own sockets (Redis) carry: a job
  // that failed on an unreachable inference server reaches here as BullMQ's failure text, whose message may
  // say ECONNREFUSED too, and that is a step failure, not a lost Redis.
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'MaxRetriesPerRequestError' || /^Connection is closed|^Stream isn't writeable/.test(e.message)) return true;
    if (REDIS_SOCKET_CODES.has(String((e as NodeJS.ErrnoException).code))) return true;
  }
  return false;
}

const REDIS_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);
