import { isDifferadError } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { PRODUCER_MAX_RETRIES, parseRedisUrl, redactRedisUrl, toRedisOptions } from './redis-url.js';

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
    expect(parseRedisUrl('redis://:secret@[::1]:7000').host).toBe('::1');
  });

  it('refuses other schemes and bad databases, without echoing the password', () => {
    for (const url of ['http://localhost:6379', 'redis://h/x', 'redis://h:0', 'not a url', 'redis://:hunter2@h/-1']) {
      let caught: unknown;
      try {
        parseRedisUrl(url);
      } catch (error) {
        caught = error;
      }
      expect(isDifferadError(caught, 'QUEUE_REDIS_URL_INVALID'), url).toBe(true);
      expect(String((caught as Error).message)).not.toContain('hunter2');
    }
  });

  it('redacts passwords', () => {
    expect(redactRedisUrl('redis://u:secret@h:1/0')).toBe('redis://u:***@h:1/0');
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

  it('makes producers fail fast', () => {
    const opts = toRedisOptions(endpoint, 'producer');
    expect(opts.maxRetriesPerRequest).toBe(PRODUCER_MAX_RETRIES);
    expect(opts.enableOfflineQueue).toBe(false);
    expect(opts.tls).toEqual({ servername: 'h' });
  });
});
