import type { ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** Hands one of our ioredis clients to BullMQ (the same ioredis version BullMQ depends on). */
export function toBullmqConnection(redis: Redis): ConnectionOptions {
  return redis;
}
