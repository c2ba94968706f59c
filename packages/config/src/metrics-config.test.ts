import { describe, expect, it } from 'vitest';
import { listEnvNames } from './load-config.js';
import { loadMetricsConfig, MetricsSettingsSchema } from './metrics-config.js';

describe('loadMetricsConfig', () => {
  it('is off on loopback by default, read from DIFFERAD_METRICS_PORT and DIFFERAD_METRICS_HOST, a flag first', () => {
    expect(loadMetricsConfig({ env: {} })).toEqual({ host: '127.0.0.1' });
    expect([...listEnvNames(MetricsSettingsSchema).keys()]).toEqual(['DIFFERAD_METRICS_PORT', 'DIFFERAD_METRICS_HOST']);
    expect(loadMetricsConfig({ env: { DIFFERAD_METRICS_PORT: '9464', DIFFERAD_METRICS_HOST: '0.0.0.0' } })).toEqual({
      port: 9464,
      host: '0.0.0.0',
    });
    expect(loadMetricsConfig({ env: { DIFFERAD_METRICS_PORT: '9464' }, flags: { port: 0, host: undefined } })).toEqual({
      port: 0,
      host: '127.0.0.1',
    });
  });

  it('names the variable of a port that is not one', () => {
    expect(() => loadMetricsConfig({ env: { DIFFERAD_METRICS_PORT: '70000' } })).toThrow(
      /metrics\.port: .*\(from env DIFFERAD_METRICS_PORT\)/,
    );
    expect(() => loadMetricsConfig({ env: { DIFFERAD_METRICS_PORT: 'x' } })).toThrow(/metrics\.port/);
  });
});
