import { isDifferadError } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { MAX_SOCKET_PATH_BYTES, PRODUCER_MAX_RETRIES, parseRedisUrl, redactRedisUrl, toRedisOptions, toSocketUrl } from './redis-url.js';

/** The QUEUE_REDIS_URL_INVALID that parsing `url` throws. */
function refusal(url: string): Error {
  let caught: unknown;
  try {
    parseRedisUrl(url);
  } catch (error) {
    caught = error;
  }
  expect(isDifferadError(caught, 'QUEUE_REDIS_URL_INVALID'), url).toBe(true);
  return caught as Error;
}

describe('parseRedisUrl', () => {
  it('reads host, port, db, credentials and TLS', () => {
    expect(parseRedisUrl('redis://localhost')).toEqual({ host: 'localhost', port: 6379, db: 0, tls: false });
    expect(parseRedisUrl('rediss://user:p%40ss@cache.example.com:6380/2')).toEqual({
      host: 'cache.example.com',
      port: 6380,
      db: 2,
      tls: true,
      username: 'user',
      password: 'p@ss',
    });
    expect(parseRedisUrl('redis://:secret@[::1]:7000')).toMatchObject({ host: '::1' });
  });

  it('reads a unix socket path and database, and writes any path back to the same URL', () => {
    expect(parseRedisUrl('unix:///run/redis/redis.sock')).toEqual({ path: '/run/redis/redis.sock', db: 0 });
    expect(parseRedisUrl('unix:///tmp/r.sock?db=3')).toEqual({ path: '/tmp/r.sock', db: 3 });
    expect(parseRedisUrl('unix:///tmp/r.sock?db=1&username=app&password=p%40ss')).toEqual({
      path: '/tmp/r.sock',
      db: 1,
      username: 'app',
      password: 'p@ss',
    });
    const odd = '/tmp/a b/x#y?z%é/redis.sock';
    expect(parseRedisUrl(toSocketUrl(odd))).toEqual({ path: odd, db: 0 });
  });

  it('refuses unix socket URLs it would misread, naming what was wrong', () => {
    const cases: [string, string][] = [
      ['unix://host/tmp/r.sock', 'names no host'],
      ['unix:relative.sock', 'must be absolute'],
      ['unix:///tmp/', 'must be absolute'],
      ['unix:///tmp/r.sock?db=x', 'database must be a non-negative integer'],
      ['unix:///tmp/r.sock?pass=x', 'unknown query parameter "pass"'],
      ['unix:///tmp/%E0%A4%A.sock', 'not valid percent-encoding'],
      [`unix:///${'d'.repeat(MAX_SOCKET_PATH_BYTES)}/r.sock`, `longer than ${MAX_SOCKET_PATH_BYTES} bytes`],
    ];
    for (const [url, why] of cases) expect(refusal(url).message, url).toContain(why);
  });

  it('refuses other schemes and bad databases, without echoing the password', () => {
    for (const url of ['http://localhost:6379', 'redis://h/x', 'redis://h:0', 'not a url', 'redis://:hunter2@h/-1']) {
      expect(refusal(url).message, url).not.toContain('hunter2');
    }
  });

  it('redacts passwords', () => {
    expect(redactRedisUrl('redis://u:secret@h:1/0')).toBe('redis://u:***@h:1/0');
    expect(redactRedisUrl('unix:///tmp/r.sock?db=1&password=secret&username=u')).toBe('unix:///tmp/r.sock?db=1&password=***&username=u');
    expect(redactRedisUrl('unix:///tmp/r.sock?db=1')).toBe('unix:///tmp/r.sock?db=1');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('toRedisOptions', () => {
  const endpoint = parseRedisUrl('rediss://h:1');

  it('lets workers and queue events wait out outages, as BullMQ requires', () => {
    for (const role of ['worker', 'events'] as const) {
      const opts = toRedisOptions(endpoint, role);
      expect(opts.maxRetriesPerRequest).toBeNull();
      expect(opts.enableReadyCheck).toBe(true);
      expect(opts.enableOfflineQueue).toBeUndefined();
    }
  });

  it('connects through the socket path alone for a unix URL', () => {
    const opts = toRedisOptions(parseRedisUrl('unix:///tmp/r.sock?db=2'), 'worker');
    expect(opts).toMatchObject({ path: '/tmp/r.sock', db: 2, maxRetriesPerRequest: null });
    for (const key of ['host', 'port', 'tls', 'username', 'password']) expect(opts, key).not.toHaveProperty(key);
    expect(toRedisOptions(parseRedisUrl('unix:///tmp/r.sock?username=app&password=pw'), 'producer')).toMatchObject({
      path: '/tmp/r.sock',
      username: 'app',
      password: 'pw',
    });
  });

  it('makes producers fail fast', () => {
    const opts = toRedisOptions(endpoint, 'producer');
    expect(opts.maxRetriesPerRequest).toBe(PRODUCER_MAX_RETRIES);
    expect(opts.enableOfflineQueue).toBe(false);
    expect(opts.tls).toEqual({ servername: 'h' });
  });
});
