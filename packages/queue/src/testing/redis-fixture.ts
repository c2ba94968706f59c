import type { Redis } from 'ioredis';
import { connectRedis, createRedisConnection } from '../connection/redis-connection.js';
import { startEmbeddedRedis } from '../embedded/start-embedded-redis.js';

/** A test's own redis-server with a producer connection and a worker connection (BullMQ's blocking one). */
export interface RedisFixture {
  readonly url: string;
  readonly producer: Redis;
  readonly workerConnection: Redis;
  /** Closes both connections and stops the server. */
  stop(): Promise<void>;
}

/** Starts a redis-server for a test file (call in beforeAll, `stop()` in afterAll). */
export async function startRedisFixture(): Promise<RedisFixture> {
  const redis = await startEmbeddedRedis();
  const producer = await connectRedis(redis.url, 'producer');
  const workerConnection = createRedisConnection(redis.url, 'worker');
  return {
    url: redis.url,
    producer,
    workerConnection,
    async stop() {
      await producer.quit().catch(() => undefined);
      workerConnection.disconnect();
      await redis.stop();
    },
  };
}
