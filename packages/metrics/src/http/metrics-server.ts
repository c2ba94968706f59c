import { type RunningServer, startServer } from '@differad/http-server';
import { Hono } from 'hono';
import type { DifferadMetrics } from '../create-metrics.js';

/** Where every differad process serves its exposition. */
export const METRICS_PATH = '/metrics';

/**
 * The exposition as an HTTP response: 200 with the Prometheus text, or 500
 * with the reason when a collector threw (Prometheus then records the scrape
 * as failed, `up == 0`, instead of storing a partial one).
 */
export async function metricsResponse(metrics: DifferadMetrics): Promise<Response> {
  try {
    return new Response(await metrics.expose(), { status: 200, headers: { 'content-type': metrics.contentType } });
  } catch (error) {
    return new Response(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`, {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
}

/** A Hono app that serves `GET /metrics` (HEAD too) and nothing else, for a process's metrics port. */
export function createMetricsApp(metrics: DifferadMetrics): Hono {
  const app = new Hono();
  app.get(METRICS_PATH, () => metricsResponse(metrics));
  app.all(METRICS_PATH, (c) => c.text('method not allowed\n', 405, { allow: 'GET, HEAD' }));
  app.notFound((c) => c.text(`not found: metrics are at ${METRICS_PATH}\n`, 404));
  return app;
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Address to bind (default 127.0.0.1; 0.0.0.0 in a container that Prometheus scrapes). */
  readonly host?: string;
  /** The `--metrics-port`; 0 picks a free one. */
  readonly port: number;
}

/**
 * Serves `metrics` at `http://host:port/metrics` on a server of its own (a
 * worker's `--metrics-port`), through @differad/http-server's lifecycle:
 * resolves once listening (rejects on EADDRINUSE), `close()` is graceful.
 */
export function startMetricsServer(metrics: DifferadMetrics, options: MetricsServerOptions): Promise<RunningServer> {
  return startServer(createMetricsApp(metrics), { port: options.port, ...(options.host === undefined ? {} : { host: options.host }) });
}
