import type { RunSnapshot, RunStore, StepMetrics } from '@differad/queue';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { streamRunMetrics } from './metrics-stream.js';

const row = (step: number): StepMetrics => ({
  step,
  weightVersion: step + 1,
  at: 1_800_000_000_000 + step,
  values: { reward_mean: step / 10 },
});
const snapshot = (state: RunSnapshot['state']): RunSnapshot => ({
  runId: 'r',
  state,
  lastCompletedStep: null,
  weightVersion: 0,
  createdAt: 0,
  updatedAt: 0,
});

/** A run store whose run is `running` for the first `polls` reads, then `completed`, with `rows` stored. */
function createStore(rows: StepMetrics[], polls: number): RunStore {
  let reads = 0;
  const store = {
    loadRun: async () => snapshot(++reads > polls ? 'completed' : 'running'),
    readMetrics: async (_: string, options: { fromStep?: number }) => rows.filter((r) => r.step >= (options.fromStep ?? 0)),
  };
  return store as unknown as RunStore;
}

function createApp(store: RunStore, fromStep = 0): Hono {
  return new Hono().get('/stream', (c) =>
    streamRunMetrics(c, { store, runId: 'r', fromStep, settings: { pollMs: 5, heartbeatMs: 60_000 } }),
  );
}

describe('the metrics event stream', () => {
  it('sends each row once as `metrics` with its step as id, `state` on a change and `end` last, then closes', async () => {
    const rows = [row(0), row(1)];
    const res = await createApp(createStore(rows, 2)).request('/stream');
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text.startsWith('retry: 1000\n\n')).toBe(true);
    const events = text
      .split('\n\n')
      .filter((block) => block.includes('event: '))
      .map((block) =>
        Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])),
      );
    expect(events.map((e) => `${e.event}:${e.id ?? ''}`)).toEqual(['metrics:0', 'metrics:1', 'state:', 'state:', 'end:']);
    expect(JSON.parse(events[1]!.data!)).toEqual(row(1));
    expect(JSON.parse(events[4]!.data!)).toEqual({ runId: 'r', state: 'completed' });
  });

  it('ends at once for a run that does not exist', async () => {
    const store = { loadRun: async () => null, readMetrics: async () => [] } as unknown as RunStore;
    const text = await (await createApp(store, 5).request('/stream')).text();
    expect(text).toBe('retry: 1000\n\nevent: end\ndata: {"runId":"r","state":null}\n\n');
  });
});
