/**
 * @differad/metrics — the Prometheus metrics of differad's processes (issue 17):
 * one registry with every metric of {@link METRIC_CATALOG} (prom-client),
 * typed helpers that record events without knowing the metric objects,
 * scrape-time collectors for BullMQ queue counts and the fleet client's
 * per-server state, and the `/metrics` endpoint (a Hono handler, or a server
 * of its own for a `--metrics-port`).
 */
export { METRIC_CATALOG, type TrainerCall } from './catalog/metric-catalog.js';
export { type DifferadMetrics, createMetrics } from './create-metrics.js';
export { startMetricsServer, METRICS_PATH } from './http/metrics-server.js';
export { toMetricsTable } from './docs/metrics-table.js';
