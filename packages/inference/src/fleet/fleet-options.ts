import type { DifferadError, Rng } from '@differad/core';
import { z } from 'zod';
import type { Clock } from '../time/clock.js';

/** Numeric and text settings of a fleet, validated once by `createFleet`. */
export const FleetSettingsSchema = z.strictObject({
  /** Base URLs of the OpenAI-compatible servers (`http://host:8000`; a trailing `/v1` is dropped). */
  servers: z.array(z.url({ protocol: /^https?$/ })).min(1),
  /** The served model name sent with every request. */
  model: z.string().min(1),
  /** Deadline of each attempt, ms. */
  timeoutMs: z.number().int().positive().default(120_000),
  /** Attempts per request, the first included; each retry goes to another server when there is one. */
  maxAttempts: z.number().int().min(1).max(20).default(3),
  /** Retry delay: `min(max, base·2^(k−1))`, half of it fixed and half uniform jitter. */
  backoffBaseMs: z.number().min(0).default(100),
  backoffMaxMs: z.number().min(0).default(5_000),
  /** Consecutive failures (5xx, timeouts, lost connections) that eject a server. */
  ejectAfterFailures: z.number().int().min(1).default(3),
  /** First probe of an ejected server after this; doubles per failed probe up to the max. */
  probeBaseMs: z.number().positive().default(1_000),
  probeMaxMs: z.number().positive().default(30_000),
  /** Deadline of a `/health` probe or `/metrics` scrape, ms. */
  healthTimeoutMs: z.number().int().positive().default(5_000),
  /** How often `/metrics` is scraped for load gauges; 0 turns scraping off (own in-flight counts only). */
  metricsIntervalMs: z.number().int().min(0).default(1_000),
  /** Sockets per server. */
  connectionsPerServer: z.number().int().min(1).max(4096).default(256),
  /** The adaptive per-server concurrency limit, in sequences (see ConcurrencyLimit). */
  concurrency: z
    .strictObject({
      initial: z.number().positive().default(32),
      min: z.number().positive().default(1),
      max: z.number().positive().default(1024),
      tolerance: z.number().gt(1).default(1.5),
      backoff: z.number().gt(0).lt(1).default(0.9),
      failureBackoff: z.number().gt(0).lt(1).default(0.5),
      baselineWindow: z.number().int().min(1).default(200),
      queueHeadroom: z.number().min(0).max(10).default(0),
      queueRequests: z.number().int().min(0).max(64).default(1),
    })
    .prefault({}),
});
export type FleetSettings = z.infer<typeof FleetSettingsSchema>;

/** Something the fleet did that callers may log or tests may wait on. */
export type FleetEvent =
  | { readonly type: 'ejected'; readonly server: string; readonly consecutiveFailures: number; readonly probeInMs: number }
  | { readonly type: 'restored'; readonly server: string }
  /** An ejected server answered `/health` but the `readmit` check kept it out (probed again later). */
  | { readonly type: 'readmit-refused'; readonly server: string; readonly reason: string }
  /** A server answered a request for synced weights from weights it must not use (core's toWeightsLost): ejected, the request sent elsewhere. */
  | { readonly type: 'weights-lost'; readonly server: string; readonly reason: string }
  | {
      readonly type: 'retry';
      readonly server: string;
      readonly requestId: string;
      readonly attempt: number;
      readonly error: DifferadError;
      readonly delayMs: number;
    };

/** Options of `createFleet`: the settings plus injected clock, generator and event sink. */
export type FleetOptions = z.input<typeof FleetSettingsSchema> & {
  /** Timers and time (default: the real clock). */
  readonly clock?: Clock;
  /** Jitter of retry delays (default: seeded from the start time). */
  readonly rng?: Rng;
  readonly onEvent?: (event: FleetEvent) => void;
  /**
   * A second check before an ejected server that answers `/health` again takes
   * requests (its URL as the fleet normalized it): null lets it in, a reason
   * keeps it ejected until a later probe. A server that restarted since it was
   * ejected may hold other weights than the caller's (training checks its
   * weight version); a check that throws keeps it out too.
   */
  readonly readmit?: (server: string) => Promise<string | null>;
};
