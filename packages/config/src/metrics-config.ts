import { z } from 'zod';
import { loadConfig } from './load-config.js';

/**
 * Where a process serves its Prometheus `/metrics` on a port of its own
 * (`differad worker|api --metrics-port`); README, "Monitoring". No port: no
 * metrics server. The host is loopback unless set (0.0.0.0 in a container
 * that Prometheus scrapes).
 */
export const MetricsConfigSchema = z.strictObject({
  port: z.number().int().min(0).max(65_535).optional(),
  host: z.string().min(1).default('127.0.0.1'),
});
export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;

/** The unit `loadMetricsConfig` validates: its env names are DIFFERAD_METRICS_PORT and DIFFERAD_METRICS_HOST. */
export const MetricsSettingsSchema = z.strictObject({ metrics: MetricsConfigSchema.prefault({}) });

/** The metrics endpoint: `--metrics-port`/`--metrics-host` > DIFFERAD_METRICS_PORT/DIFFERAD_METRICS_HOST > defaults (none, 127.0.0.1). */
export function loadMetricsConfig(input: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags?: { readonly port?: number | undefined; readonly host?: string | undefined };
}): MetricsConfig {
  return loadConfig({ env: input.env, flags: { metrics: { ...input.flags } } }, MetricsSettingsSchema).metrics;
}
