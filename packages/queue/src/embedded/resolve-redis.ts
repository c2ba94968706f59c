import { DEFAULT_REDIS_TIMEOUT_MS, pingRedis } from '../connection/redis-connection.js';
import { parseRedisUrl } from '../connection/redis-url.js';
import { startEmbeddedRedis, type EmbeddedRedis, type EmbeddedRedisOptions } from './start-embedded-redis.js';

/** The environment variable naming an external Redis. */
export const REDIS_URL_ENV = 'DIFFERAD_REDIS_URL';

/** The Redis a process will use, and how to let go of it. */
export interface ResolvedRedis {
  /** DIFFERAD_REDIS_URL, or the embedded server's socket URL (its TCP URL when it has no socket). */
  readonly url: string;
  /** `env`: DIFFERAD_REDIS_URL; `embedded`: a private redis-server this process started. */
  readonly source: 'env' | 'embedded';
  /** The embedded server, when `source` is `embedded`. */
  readonly embedded: EmbeddedRedis | null;
  /** Stops the embedded server; nothing for an external Redis. */
  stop(): Promise<void>;
}

/** Options of {@link resolveRedis}. */
export interface ResolveRedisOptions extends EmbeddedRedisOptions {
  /** Deadline for an external Redis to answer PING (default 3 s). */
  readonly timeoutMs?: number;
}

/**
 * The composition root's one call for Redis: with `DIFFERAD_REDIS_URL` set in
 * `env`, checks that it parses and answers PING (QUEUE_REDIS_URL_INVALID /
 * QUEUE_REDIS_UNREACHABLE otherwise); without it, starts the embedded
 * redis-server (QUEUE_REDIS_MISSING says how to install it). `env` is passed
 * in because only composition roots read the process environment.
 */
export async function resolveRedis(
  env: Readonly<Record<string, string | undefined>>,
  options: ResolveRedisOptions = {},
): Promise<ResolvedRedis> {
  const url = env[REDIS_URL_ENV]?.trim() ?? '';
  if (url !== '') {
    parseRedisUrl(url);
    await pingRedis(url, options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS);
    return { url, source: 'env', embedded: null, stop: () => Promise.resolve() };
  }
  const embedded = await startEmbeddedRedis(options);
  // The processes on this machine reach it through its socket when it has one (less CPU per command than loopback TCP).
  return { url: embedded.socketUrl ?? embedded.url, source: 'embedded', embedded, stop: () => embedded.stop() };
}
