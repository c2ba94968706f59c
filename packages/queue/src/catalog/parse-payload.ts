import type { z } from 'zod';
import { toPayloadError } from '../errors/queue-errors.js';
import type { JobName } from './job-names.js';
import { PAYLOAD_SCHEMAS, type JobPayloads } from './payloads.js';

/**
 * Validates `data` against the payload schema of queue `name`. Throws a
 * non-retryable DifferadError QUEUE_PAYLOAD_INVALID naming the field, with
 * `fieldPrefix` in front of it (e.g. `rollouts.3` inside a flow).
 */
export function parsePayload<N extends JobName>(name: N, data: unknown, fieldPrefix = ''): JobPayloads[N] {
  const schema: z.ZodType<JobPayloads[N]> = PAYLOAD_SCHEMAS[name] as unknown as z.ZodType<JobPayloads[N]>;
  const result = schema.safeParse(data);
  if (!result.success) throw toPayloadError(name, result.error, fieldPrefix);
  return result.data;
}
