import type { MetricsConfig } from '@differad/config';
import { DifferadError } from '@differad/core';
import { createMetrics, type DifferadMetrics, METRICS_PATH, startMetricsServer } from '@differad/metrics';

/** A process's metrics and the server of its `--metrics-port`. */
export interface ProcessMetrics {
  /** What the orchestrator records into (every helper of createMetrics). */
  readonly metrics: DifferadMetrics;
  /** `http://host:port/metrics`. */
  readonly url: string;
  /**
   * Resolves once a scrape that began after this call has been answered, or
   * after `ms`, or when `signal` aborts: the last values (a run's final step,
   * its queues at rest) reach Prometheus before the process goes.
   */
  nextScrape(ms: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the metrics of `differad worker|train|api` on `settings.port`
 * (null when no port is set: the process records nothing). A port that
 * cannot be bound fails the command at start (METRICS_LISTEN_FAILED).
 */
export async function startProcessMetrics(settings: MetricsConfig): Promise<ProcessMetrics | null> {
  if (settings.port === undefined) return null;
  const recorded = createMetrics();
  const waiting = new Set<() => void>();
  // The waiters of a scrape are taken when it begins, so one already under way when nextScrape was called does not count.
  const metrics: DifferadMetrics = {
    ...recorded,
    async expose() {
      const scraped = [...waiting];
      waiting.clear();
      try {
        return await recorded.expose();
      } finally {
        for (const resolve of scraped) resolve();
      }
    },
  };
  const server = await startMetricsServer(metrics, { host: settings.host, port: settings.port }).catch((cause: unknown) => {
    throw new DifferadError(
      'METRICS_LISTEN_FAILED',
      `cannot serve metrics on ${settings.host}:${settings.port}: ${(cause as Error).message}`,
      { cause },
    );
  });
  return {
    metrics,
    url: `${server.url}${METRICS_PATH}`,
    nextScrape(ms, signal) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waiting.add(done);
        signal?.addEventListener('abort', done, { once: true });
        if (signal?.aborted) done();
      });
    },
    close: () => server.close(),
  };
}
