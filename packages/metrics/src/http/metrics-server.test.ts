import type { RunningServer } from '@differad/http-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../create-metrics.js';
import { createMetricsApp, startMetricsServer } from './metrics-server.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('the metrics endpoint', () => {
  it('serves the exposition at /metrics on a port of its own, in Prometheus text format 0.0.4', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordStep('r1', { step: 0, reward_mean: 0.5 });
    const server = await startMetricsServer(metrics, { port: 0 });
    servers.push(server);
    const reply = await fetch(`${server.url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await reply.text()).toContain('differad_steps_completed_total{run="r1"} 1');
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('answers 500 with the reason when a collector throws, so the scrape counts as failed rather than partial', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.collectFleet({
      stats: () => {
        throw new Error('fleet closed');
      },
    });
    const reply = await createMetricsApp(metrics).request('/metrics');
    expect(reply.status).toBe(500);
    expect(await reply.text()).toContain('fleet closed');
  });

  it('refuses a port that is taken', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const first = await startMetricsServer(metrics, { port: 0 });
    servers.push(first);
    await expect(startMetricsServer(metrics, { port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
