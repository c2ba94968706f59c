import type { Registry } from 'prom-client';
import { FINISH_REASONS, METRIC_CATALOG, type MetricKey, type SyncBackend, type TrainerCall } from './catalog/metric-catalog.js';
import { createFleetCollector, type FleetStatsSource } from './collect/fleet-stats.js';
import { type CountableQueue, createQueueCollector } from './collect/queue-counts.js';
import { createBoundedLabels } from './record/bounded-labels.js';
import { createStepRecorder, type StepRowLike } from './record/step-recorder.js';
import { createRegistry, type MetricInstances } from './registry/create-registry.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** prom-client's process and Node.js metrics (`process_cpu_seconds_total`, …); default true. */
  readonly processMetrics?: boolean;
  /** Runs with live series; past it the least recently recorded run's series go (default 8). */
  readonly maxRuns?: number;
  /** Servers with live rollout-latency series; past it the least recently used server's go (default 64). */
  readonly maxServers?: number;
  /** How long one queue's `getJobCounts` may take in a scrape (default 2000 ms). */
  readonly queueCountTimeoutMs?: number;
}

/** One weight sync, as {@link DifferadMetrics.recordWeightSync} takes it. */
export interface WeightSyncRecord {
  readonly run: string;
  readonly backend: SyncBackend;
  readonly seconds: number;
  /** The weight version the servers now serve. */
  readonly version: number;
}

/** A process's metrics: record events through the helpers, expose the registry at `/metrics`. */
export interface DifferadMetrics {
  /** The prom-client registry (every metric of METRIC_CATALOG, and the process metrics unless turned off). */
  readonly registry: Registry;
  /** The exposition's content type (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** The Prometheus text exposition: runs the scrape-time collectors, then renders every metric. */
  expose(): Promise<string>;
  /** Reads these queues' job counts at every scrape; returns the function that stops it (before the queues close). */
  collectQueues(queues: Iterable<CountableQueue>): () => void;
  /** Reads this fleet client's per-server state at every scrape; returns the function that stops it. */
  collectFleet(fleet: FleetStatsSource): () => void;
  /** A job completed after `seconds` of processing. */
  recordJobCompleted(queue: string, seconds: number): void;
  /** A job attempt failed with `code` (undefined: no code); `final` when BullMQ will not retry it. */
  recordJobFailed(queue: string, code: string | undefined, final: boolean): void;
  /** One rollout request (n = G completions) took `seconds` on `server`. */
  observeRollout(seconds: number, server: string): void;
  /** One trainer API call took `seconds`. */
  observeTrainerCall(call: TrainerCall, seconds: number): void;
  /** Completions received, by their finish reasons (one entry per completion). */
  recordCompletions(finishReasons: Iterable<string | null | undefined>): void;
  /** A weight sync finished. */
  recordWeightSync(sync: WeightSyncRecord): void;
  /** A step's metrics row was written (StepRow of @differad/core). */
  recordStep(run: string, row: StepRowLike): void;
  /** Drops the run's series now (its process is done with it). */
  forgetRun(run: string): void;
}

const CODE = /^[A-Z][A-Z0-9_]{0,79}$/;

/** An error code as a label value: SCREAMING_SNAKE codes as they are, `UNKNOWN` without one, `OTHER` for anything else. */
export function toCodeLabel(code: string | undefined): string {
  if (code === undefined || code === '') return 'UNKNOWN';
  return CODE.test(code) ? code : 'OTHER';
}

const FINISH = new Set<string>(FINISH_REASONS);

/** The catalog metrics that carry `label`. */
function keysWithLabel(label: string): MetricKey[] {
  return (Object.keys(METRIC_CATALOG) as MetricKey[]).filter((key) => (METRIC_CATALOG[key].labels as readonly string[]).includes(label));
}

/** Creates a registry with every differad metric (METRIC_CATALOG) and the helpers that record into it. */
export function createMetrics(options: MetricsOptions = {}): DifferadMetrics {
  // The collectors reach the metrics through getters: prom-client calls them only at scrape time, after the registry exists.
  const queues = createQueueCollector(() => ({ jobs: metrics.queueJobs, errors: metrics.queueCollectErrors }), {
    timeoutMs: options.queueCountTimeoutMs ?? 2000,
  });
  const fleets = createFleetCollector(() => ({
    inFlight: metrics.fleetInFlight,
    concurrencyLimit: metrics.fleetConcurrencyLimit,
    ejected: metrics.fleetServerEjected,
    latency: metrics.fleetLatency,
    queued: metrics.fleetQueued,
  }));
  const { registry, metrics } = createRegistry({
    processMetrics: options.processMetrics ?? true,
    collectors: {
      queueJobs: queues.collect,
      queueCollectErrors: queues.collect,
      ...fleets.collectors,
    },
  });
  const steps = createStepRecorder(metrics);
  const removeLabel = (label: string, value: string) => {
    for (const key of keysWithLabel(label)) (metrics as Record<MetricKey, MetricInstances[MetricKey]>)[key].remove({ [label]: value });
  };
  const runs = createBoundedLabels(options.maxRuns ?? 8, (run) => {
    removeLabel('run', run);
    steps.forget(run);
  });
  const servers = createBoundedLabels(options.maxServers ?? 64, (server) => metrics.rolloutRequestDuration.remove({ server }));

  return {
    registry,
    contentType: registry.contentType,
    expose: () => registry.metrics(),
    collectQueues: (list) => queues.add(list),
    collectFleet: (fleet) => fleets.add(fleet),
    recordJobCompleted(queue, seconds) {
      metrics.jobsCompleted.inc({ queue });
      metrics.jobDuration.observe({ queue }, seconds);
    },
    recordJobFailed(queue, code, final) {
      (final ? metrics.jobsFailed : metrics.jobRetries).inc({ queue, code: toCodeLabel(code) });
    },
    observeRollout(seconds, server) {
      servers.touch(server);
      metrics.rolloutRequestDuration.observe({ server }, seconds);
    },
    observeTrainerCall(call, seconds) {
      metrics.trainerCallDuration.observe({ call }, seconds);
    },
    recordCompletions(finishReasons) {
      for (const reason of finishReasons)
        metrics.completionsGenerated.inc({ finish_reason: reason && FINISH.has(reason) ? reason : 'other' });
    },
    recordWeightSync({ run, backend, seconds, version }) {
      runs.touch(run);
      metrics.weightSyncDuration.observe({ backend }, seconds);
      metrics.weightVersion.set({ run }, version);
    },
    recordStep(run, row) {
      runs.touch(run);
      steps.record(run, row);
    },
    forgetRun: (run) => runs.forget(run),
  };
}
