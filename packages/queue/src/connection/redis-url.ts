import { DifferadError } from '@differad/core';
import type { RedisOptions } from 'ioredis';
import { QUEUE_ERROR_CODES } from '../errors/queue-errors.js';

/** What a `redis://` or `rediss://` URL says. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
}

/**
 * What a connection is for, which decides how it behaves while Redis is away:
 * `worker` and `events` hold blocking commands and must wait out outages
 * (BullMQ requires `maxRetriesPerRequest: null` for them); a `producer` (API,
 * CLI, coordinator) should fail fast so the caller sees the outage.
 */
export type RedisRole = 'worker' | 'producer' | 'events';

/** Tries of one command on a producer connection across reconnects before it fails. */
export const PRODUCER_MAX_RETRIES = 2;
const CONNECT_TIMEOUT_MS = 5000;

function invalid(url: string, reason: string): DifferadError {
  return new DifferadError(
    QUEUE_ERROR_CODES.REDIS_URL_INVALID,
    `invalid Redis URL ${redactRedisUrl(url)}: ${reason} (expected redis://[user:password@]host[:port][/db] or rediss://…)`,
    {
      details: { url: redactRedisUrl(url) },
    },
  );
}

/** Parses a `redis://` or `rediss://` URL (default port 6379, db 0); QUEUE_REDIS_URL_INVALID otherwise. */
export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, 'not a URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalid(url, `unsupported scheme ${parsed.protocol}`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid(url, 'no host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (port < 1) throw invalid(url, 'port must be 1-65535');
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || !/^\d*$/.test(dbText))
    throw invalid(url, `database must be a non-negative integer, got ${JSON.stringify(dbText)}`);
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  return {
    host,
    port,
    db,
    tls: parsed.protocol === 'rediss:',
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
  };
}

/** `url` with any password replaced by `***`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/** The ioredis options of a connection to `endpoint` for `role` (see {@link RedisRole}). */
export function toRedisOptions(endpoint: RedisEndpoint, role: RedisRole): RedisOptions {
  const base: RedisOptions = {
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableReadyCheck: true,
    connectionName: `differad-${role}`,
    ...(endpoint.username === undefined ? {} : { username: endpoint.username }),
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
    ...(endpoint.tls ? { tls: { servername: endpoint.host } } : {}),
  };
  if (role === 'producer') {
    return { ...base, maxRetriesPerRequest: PRODUCER_MAX_RETRIES, enableOfflineQueue: false };
  }
  return { ...base, maxRetriesPerRequest: null };
}
