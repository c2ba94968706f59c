import { DifferadError } from '@differad/core';
import type { RedisOptions } from 'ioredis';
import { QUEUE_ERROR_CODES } from '../errors/queue-errors.js';

/** What a `redis://` or `rediss://` URL says. */
export interface RedisTcpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
}

/**
 * What a `unix:///path/to/redis.sock[?db=N&username=U&password=P]` URL says:
 * a server on this machine reached through its unix socket (redis.conf
 * `unixsocket`), which costs the client less CPU per command than loopback
 * TCP. Who may connect is the socket file's permissions (`unixsocketperm`),
 * and the server's ACL when it has one (credentials go in the query, as a
 * socket URL has no host to carry them).
 */
export interface RedisSocketEndpoint {
  readonly path: string;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
}

/** The query parameters a unix socket URL may have. */
const SOCKET_QUERY = new Set(['db', 'username', 'password']);

/** Where a Redis URL points. */
export type RedisEndpoint = RedisTcpEndpoint | RedisSocketEndpoint;

/** The longest socket path the kernel takes (`sun_path` holds 108 bytes on Linux, 104 on macOS, with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 103;

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
    `invalid Redis URL ${redactRedisUrl(url)}: ${reason} (expected redis://[user:password@]host[:port][/db], rediss://… or unix:///path/to/redis.sock[?db=N&password=P])`,
    {
      details: { url: redactRedisUrl(url) },
    },
  );
}

/** A non-negative integer database number, from a path segment or a `db` query value. */
function toDb(url: string, text: string): number {
  const db = text === '' ? 0 : Number(text);
  if (!Number.isInteger(db) || db < 0 || !/^\d*$/.test(text))
    throw invalid(url, `database must be a non-negative integer, got ${JSON.stringify(text)}`);
  return db;
}

/** `unix:///absolute/path.sock` with at most `db`, `username` and `password` in the query. */
function parseSocketUrl(url: string, parsed: URL): RedisSocketEndpoint {
  if (parsed.host !== '' || parsed.username !== '' || parsed.password !== '')
    throw invalid(url, 'a unix socket URL names no host, and its credentials go in the query: unix:///path/to/redis.sock?password=P');
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    throw invalid(url, 'the socket path is not valid percent-encoding');
  }
  if (!path.startsWith('/') || path.endsWith('/')) throw invalid(url, 'the socket path must be absolute: unix:///path/to/redis.sock');
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES)
    throw invalid(url, `socket path longer than ${MAX_SOCKET_PATH_BYTES} bytes, more than the kernel takes`);
  const unknown = [...parsed.searchParams.keys()].filter((k) => !SOCKET_QUERY.has(k));
  if (unknown.length > 0) throw invalid(url, `unknown query parameter ${JSON.stringify(unknown[0])} (db, username and password are read)`);
  const username = parsed.searchParams.get('username') ?? '';
  const password = parsed.searchParams.get('password') ?? '';
  return {
    path,
    db: toDb(url, parsed.searchParams.get('db') ?? ''),
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
  };
}

/**
 * Parses a `redis://` or `rediss://` URL (default port 6379, db 0) or a
 * `unix:///path/to/redis.sock[?db=N&username=U&password=P]` one;
 * QUEUE_REDIS_URL_INVALID otherwise.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, 'not a URL');
  }
  if (parsed.protocol === 'unix:') return parseSocketUrl(url, parsed);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalid(url, `unsupported scheme ${parsed.protocol}`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid(url, 'no host');
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (port < 1) throw invalid(url, 'port must be 1-65535');
  const db = toDb(url, parsed.pathname.replace(/^\//, ''));
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

/** The `unix://` URL of a socket path (each segment percent-encoded), which {@link parseRedisUrl} reads back to `path`. */
export function toSocketUrl(path: string): string {
  return `unix://${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** `url` with any password replaced by `***`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // A unix socket URL carries its password in the query.
    if (parsed.protocol === 'unix:') return parsed.searchParams.has('password') ? url.replace(/([?&]password=)[^&#]*/g, '$1***') : url;
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@').replace(/([?&]password=)[^&#]*/g, '$1***');
  }
}

/** The ioredis options of a connection to `endpoint` for `role` (see {@link RedisRole}). */
export function toRedisOptions(endpoint: RedisEndpoint, role: RedisRole): RedisOptions {
  const where: RedisOptions =
    'path' in endpoint
      ? { path: endpoint.path }
      : { host: endpoint.host, port: endpoint.port, ...(endpoint.tls ? { tls: { servername: endpoint.host } } : {}) };
  const base: RedisOptions = {
    ...where,
    ...(endpoint.username === undefined ? {} : { username: endpoint.username }),
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
    db: endpoint.db,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableReadyCheck: true,
    connectionName: `differad-${role}`,
  };
  if (role === 'producer') {
    return { ...base, maxRetriesPerRequest: PRODUCER_MAX_RETRIES, enableOfflineQueue: false };
  }
  return { ...base, maxRetriesPerRequest: null };
}
