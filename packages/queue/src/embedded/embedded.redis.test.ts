import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDifferadError, type DifferadError } from '@differad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, pingRedis } from '../connection/redis-connection.js';
import { findFreePort } from './free-port.js';
import { resolveRedis } from './resolve-redis.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './start-embedded-redis.js';

let dir: string;
let redis: EmbeddedRedis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-redis-test-'));
  redis = await startEmbeddedRedis({ dir });
});

afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

/** True while a process with this PID exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function caught(work: Promise<unknown>): Promise<DifferadError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDifferadError(error)) throw new Error(`expected a DifferadError, got ${String(error)}`);
  return error;
}

describe('embedded redis-server', () => {
  it('listens on 127.0.0.1, persists to an AOF in its dir, and stop() ends exactly that PID', async () => {
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(isAlive(redis.pid)).toBe(true);
    const client = await connectRedis(redis.url, 'producer');
    await client.set('differad:test:aof', 'kept');
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    await client.quit();

    // Redis writes the AOF buffer before it replies (fsync follows within a second).
    const aofDir = join(dir, 'appendonlydir');
    const files = await readdir(aofDir);
    const incr = files.find((f) => f.endsWith('.incr.aof'));
    expect(incr).toMatch(/\.incr\.aof$/);
    expect(await readFile(join(aofDir, incr ?? ''), 'utf8')).toContain('differad:test:aof');

    await redis.stop();
    expect(isAlive(redis.pid)).toBe(false);
    await redis.stop();
    expect(await redis.exited).toEqual({ code: 0, signal: null });

    // Started again on the same dir, the server replays its AOF: what --resume relies on.
    redis = await startEmbeddedRedis({ dir });
    const again = await connectRedis(redis.url, 'producer');
    expect(await again.get('differad:test:aof')).toBe('kept');
    await again.quit();
  });

  it('listens on a unix socket in its dir too, that only this user may open, serving the same data', async () => {
    expect(redis.socketUrl).toBe(`unix://${join(dir, 'redis.sock')}`);
    const info = await stat(join(dir, 'redis.sock'));
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o700);
    const tcp = await connectRedis(redis.url, 'producer');
    const local = await connectRedis(redis.socketUrl!, 'producer');
    await tcp.set('differad:test:socket', 'both');
    expect(await local.get('differad:test:socket')).toBe('both');
    // Redis marks a client of its unix socket with flag U.
    expect(await local.call('CLIENT', 'INFO')).toMatch(/ laddr=\/\S*redis\.sock:0 .* flags=U /);
    await Promise.all([tcp.quit(), local.quit()]);
  });

  it('authenticates over the socket with the credentials of the URL query, and never shows the password', async () => {
    const guarded = await startEmbeddedRedis();
    try {
      const admin = await connectRedis(guarded.socketUrl!, 'producer');
      await admin.config('SET', 'requirepass', 'hunter2');
      admin.disconnect();
      const allowed = await connectRedis(`${guarded.socketUrl!}?password=hunter2&db=3`, 'producer');
      await allowed.set('differad:test:auth', 'in db 3');
      const info = String(await allowed.call('CLIENT', 'INFO'));
      allowed.disconnect();
      expect(info).toMatch(/ flags=U /);
      expect(info).toMatch(/ db=3 /);
      const refused = await caught(pingRedis(`${guarded.socketUrl!}?password=wrong`, 500));
      expect(refused.code).toBe('QUEUE_REDIS_UNREACHABLE');
      expect(refused.message).toContain('password=***');
      expect(refused.message).not.toContain('wrong');
    } finally {
      await guarded.stop();
    }
  });

  it("leaves the socket of another live server on the same dir alone, so that server's new connections still reach it", async () => {
    const shared = await mkdtemp(join(tmpdir(), 'differad-redis-test-'));
    const first = await startEmbeddedRedis({ dir: shared });
    try {
      await expectTcpAlone(shared);
      const client = await connectRedis(first.socketUrl!, 'producer');
      const info = await client.info('server');
      client.disconnect();
      expect(info).toContain(`process_id:${first.pid}`);
    } finally {
      await first.stop();
      await rm(shared, { recursive: true, force: true });
    }
  });

  /** Starts a server on `dir` and checks that it serves over TCP alone. */
  async function expectTcpAlone(dir: string): Promise<void> {
    const other = await startEmbeddedRedis({ dir });
    try {
      expect(other.socketUrl).toBeNull();
      await pingRedis(other.url, 1000);
    } finally {
      await other.stop();
    }
  }

  it('falls back to TCP alone when its dir is too deep for a socket path', async () => {
    const deep = join(dir, 'd'.repeat(60), 'e'.repeat(60));
    await mkdir(deep, { recursive: true });
    await expectTcpAlone(deep);
  });

  it('falls back to TCP alone when it cannot open the socket', async () => {
    const blocked = await mkdtemp(join(tmpdir(), 'differad-redis-test-'));
    try {
      // A directory where the socket would go: redis-server cannot bind there and exits.
      await mkdir(join(blocked, 'redis.sock'));
      await expectTcpAlone(blocked);
    } finally {
      await rm(blocked, { recursive: true, force: true });
    }
  });

  it('reports a server that died on its own through exited, with the signal that ended it', async () => {
    const other = await startEmbeddedRedis();
    process.kill(other.pid, 'SIGKILL');
    expect(await other.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await other.stop();
  });

  it('says how to install redis-server when the binary is missing', async () => {
    const error = await caught(startEmbeddedRedis({ binary: '/nonexistent/bin/redis-server' }));
    expect(error.code).toBe('QUEUE_REDIS_MISSING');
    expect(error.message).toContain('apt-get install -y redis-server');
    expect(error.message).toContain('DIFFERAD_REDIS_URL=redis://host:6379');
  });

  it('reports QUEUE_REDIS_UNREACHABLE naming the URL for a closed port', async () => {
    const url = `redis://127.0.0.1:${await findFreePort()}`;
    const error = await caught(pingRedis(url, 300));
    expect(error.code).toBe('QUEUE_REDIS_UNREACHABLE');
    expect(error.message).toContain(url);
    expect(error.retryable).toBe(true);
  });

  it('resolveRedis uses DIFFERAD_REDIS_URL when set and the embedded server otherwise', async () => {
    const external = await resolveRedis({ DIFFERAD_REDIS_URL: redis.url });
    expect(external).toEqual(expect.objectContaining({ url: redis.url, source: 'env', embedded: null }));
    await pingRedis(external.url, 1000);

    const local = await resolveRedis({ DIFFERAD_REDIS_URL: redis.socketUrl! });
    expect(local.url).toBe(redis.socketUrl);

    const bad = await caught(resolveRedis({ DIFFERAD_REDIS_URL: 'http://localhost' }));
    expect(bad.code).toBe('QUEUE_REDIS_URL_INVALID');
    // No URL: the embedded path is taken (here with a missing binary, to start nothing).
    const missing = await caught(resolveRedis({}, { binary: '/nonexistent/bin/redis-server' }));
    expect(missing.code).toBe('QUEUE_REDIS_MISSING');
    // The embedded server is reached through its socket.
    const own = await resolveRedis({});
    try {
      expect(own.url).toBe(own.embedded?.socketUrl);
      expect(own.url).toMatch(/^unix:\/\/\/.*\/redis\.sock$/);
      await pingRedis(own.url, 1000);
    } finally {
      await own.stop();
    }
  });
});
