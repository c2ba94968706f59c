import { DifferadError } from '@differad/core';
import { Redis } from 'ioredis';
import { QUEUE_ERROR_CODES } from '../errors/queue-errors.js';
import { parseRedisUrl, redactRedisUrl, toRedisOptions, type RedisRole } from './redis-url.js';

/** Default deadline for reaching Redis before any work starts. */
export const DEFAULT_REDIS_TIMEOUT_MS = 3000;

/** Options of {@link createRedisConnection}. */
export interface RedisConnectionOptions {
  /** Do not connect until the first command or `connect()` (default false). */
  readonly lazyConnect?: boolean;
}

/**
 * An ioredis client for `url` (`redis://` or `rediss://`) with the options
 * `role` needs: workers and queue events wait out outages
 * (`maxRetriesPerRequest: null`, ready check on); producers fail fast (a
 * bounded `maxRetriesPerRequest`, no offline queue — so wait for `ready`
 * first, or use {@link connectRedis}). The caller owns and closes it.
 */
export function createRedisConnection(url: string, role: RedisRole, options: RedisConnectionOptions = {}): Redis {
  return new Redis({ ...toRedisOptions(parseRedisUrl(url), role), lazyConnect: options.lazyConnect ?? false });
}

function toUnreachableError(url: string, timeoutMs: number, cause: unknown): DifferadError {
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  const shown = redactRedisUrl(url);
  return new DifferadError(
    QUEUE_ERROR_CODES.REDIS_UNREACHABLE,
    `Redis at ${shown} did not answer within ${timeoutMs} ms${why}. Start it or fix DIFFERAD_REDIS_URL; unset DIFFERAD_REDIS_URL to use a private embedded redis-server instead.`,
    { cause, retryable: true, details: { url: shown, timeoutMs } },
  );
}

/** Resolves once `redis` is ready; QUEUE_REDIS_UNREACHABLE after `timeoutMs` (reconnects go on until then). */
function waitForReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown): void => {
      lastError = error;
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('error', onError);
      redis.off('ready', onReady);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(toUnreachableError(url, timeoutMs, lastError));
    }, timeoutMs);
    redis.on('error', onError);
    redis.on('ready', onReady);
    if (redis.status === 'ready') onReady();
    else if (redis.status === 'wait') redis.connect().catch(onError);
  });
}

/** Rejects with QUEUE_REDIS_UNREACHABLE when `work` takes longer than `timeoutMs`. */
async function withDeadline<T>(work: Promise<T>, url: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(toUnreachableError(url, timeoutMs, new Error('PING timed out'))), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connected client for `url` in `role`: resolves once Redis has answered
 * the ready check, else closes it and throws QUEUE_REDIS_UNREACHABLE naming
 * the URL (password redacted) after `timeoutMs`.
 */
export async function connectRedis(url: string, role: RedisRole, timeoutMs = DEFAULT_REDIS_TIMEOUT_MS): Promise<Redis> {
  const redis = createRedisConnection(url, role, { lazyConnect: true });
  try {
    await waitForReady(redis, url, timeoutMs);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}

/**
 * Checks that Redis at `url` answers PING within `timeoutMs` — run it before
 * any work starts so a wrong URL is one clear QUEUE_REDIS_UNREACHABLE instead
 * of workers hanging on reconnects. Opens and closes its own connection.
 */
export async function pingRedis(url: string, timeoutMs = DEFAULT_REDIS_TIMEOUT_MS): Promise<void> {
  const started = Date.now();
  const redis = await connectRedis(url, 'producer', timeoutMs);
  try {
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    await withDeadline(redis.ping(), url, left);
  } catch (error) {
    throw error instanceof DifferadError ? error : toUnreachableError(url, timeoutMs, error);
  } finally {
    redis.disconnect();
  }
}
