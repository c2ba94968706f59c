/**
 * @differad/metrics — the Prometheus metrics of differad's processes (issue 17):
 * one registry with every metric of {@link METRIC_CATALOG} (prom-client),
 * typed helpers that record events without knowing the metric objects,
 * scrape-time collectors for BullMQ queue counts and the fleet client's
 * per-server state, and the `/metrics` endpoint (a Hono handler, or a server
 * of its own for a `--metrics-port`).
 */
export {
  FINISH_REASONS,
  METRIC_CATALOG,
  type MetricKey,
  type MetricSpec,
  type MetricType,
  QUEUE_JOB_STATES,
  type QueueJobState,
  SYNC_BACKENDS,
  type SyncBackend,
  TRAINER_CALLS,
  type TrainerCall,
} from './catalog/metric-catalog.js';
export { type DifferadMetrics, type MetricsOptions, type WeightSyncRecord, createMetrics, toCodeLabel } from './create-metrics.js';
export type { CountableQueue } from './collect/queue-counts.js';
export type { FleetServerStatsLike, FleetStatsSource } from './collect/fleet-stats.js';
export type { StepRowLike } from './record/step-recorder.js';
export { createMetricsApp, metricsResponse, type MetricsServerOptions, startMetricsServer, METRICS_PATH } from './http/metrics-server.js';
export { toMetricsTable } from './docs/metrics-table.js';
