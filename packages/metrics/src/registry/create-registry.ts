import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRIC_CATALOG, type MetricKey, type MetricSpec } from '../catalog/metric-catalog.js';

type Catalog = typeof METRIC_CATALOG;

/** A scrape-time hook: prom-client awaits it before it reads the metric's values. */
export type MetricCollect = () => void | Promise<void>;

/** The prom-client object of each catalog metric, typed by its kind. */
export type MetricInstances = {
  readonly [K in MetricKey]: Catalog[K]['type'] extends 'counter' ? Counter : Catalog[K]['type'] extends 'gauge' ? Gauge : Histogram;
};

/** Scrape-time hooks of the metrics whose values are read, not recorded (queue counts, fleet state); counters and gauges only. */
export type MetricCollectors = Partial<Record<MetricKey, MetricCollect>>;

function instantiate(spec: MetricSpec, registry: Registry, collect: MetricCollect | undefined): Counter | Gauge | Histogram {
  const base = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
  switch (spec.type) {
    case 'counter':
      return new Counter(collect ? { ...base, collect } : base);
    case 'gauge':
      return new Gauge(collect ? { ...base, collect } : base);
    case 'histogram':
      return new Histogram({ ...base, buckets: [...(spec.buckets ?? [])] });
  }
}

/**
 * prom-client's default process metrics (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, …) on
 * `registry`, less the gauges prom-client names with a `_total` suffix
 * (`nodejs_active_handles_total`, …): Prometheus reserves `_total` for
 * counters and `promtool check metrics` rejects them. The same figures stay
 * available by type (`nodejs_active_handles{type}`).
 */
function addProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const metric of registry.getMetricsAsArray()) {
    if (metric.name.endsWith('_total') && !(metric instanceof Counter)) registry.removeSingleMetric(metric.name);
  }
}

/**
 * A registry with every metric of {@link METRIC_CATALOG}, in catalog order,
 * and prom-client's process metrics when `processMetrics` is set.
 */
export function createRegistry(options: { readonly processMetrics: boolean; readonly collectors?: MetricCollectors }): {
  registry: Registry;
  metrics: MetricInstances;
} {
  const registry = new Registry();
  const entries = (Object.keys(METRIC_CATALOG) as MetricKey[]).map(
    (key) => [key, instantiate(METRIC_CATALOG[key], registry, options.collectors?.[key])] as const,
  );
  if (options.processMetrics) addProcessMetrics(registry);
  return { registry, metrics: Object.fromEntries(entries) as unknown as MetricInstances };
}
