import type { RunState, RunStore } from '@differad/queue';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { SECURITY_HEADERS } from '../http/http-io.js';
import type { StreamSettings } from '../routes/api-deps.js';

/** States after which no more metric rows come. */
const FINAL_STATES: ReadonlySet<RunState> = new Set(['completed', 'failed', 'cancelled']);

/** Options of {@link streamRunMetrics}. */
export interface MetricsStreamOptions {
  readonly store: RunStore;
  readonly runId: string;
  readonly fromStep: number;
  readonly settings: StreamSettings;
}

/**
 * Streams a run's metric rows as server-sent events (Hono's streamSSE) until
 * the run ends or the client goes away: polls the run store every `pollMs`
 * (XRANGE after the last step sent, so each row is sent once and in order),
 * sends `metrics` (id = step) per row, `state` when the state changes, a
 * heartbeat comment after `heartbeatMs` of silence, and `end` (then closes)
 * once the run is `completed`, `failed` or `cancelled` and every row written before that
 * has been sent. A failed poll is an `error` event; the stream goes on.
 */
export function streamRunMetrics(c: Context, options: MetricsStreamOptions): Response {
  const { store, runId, settings } = options;
  const response = streamSSE(c, async (stream) => {
    let next = options.fromStep;
    let lastState: RunState | null = null;
    let lastWrite = Date.now();
    const send = async (event: string, data: unknown, id?: number): Promise<void> => {
      await stream.writeSSE({ event, data: JSON.stringify(data), ...(id === undefined ? {} : { id: String(id) }) });
      lastWrite = Date.now();
    };
    /** One poll; true once the run has ended and `end` went out. */
    const tick = async (): Promise<boolean> => {
      // Read the state first: rows written before a final state are then surely in the read that follows.
      const run = await store.loadRun(runId);
      const rows = await store.readMetrics(runId, { fromStep: next });
      for (const row of rows) {
        await send('metrics', row, row.step);
        next = row.step + 1;
      }
      if (run !== null && run.state !== lastState) {
        lastState = run.state;
        await send('state', run);
      }
      if (run === null || FINAL_STATES.has(run.state)) {
        await send('end', { runId, state: run?.state ?? null });
        return true;
      }
      if (Date.now() - lastWrite >= settings.heartbeatMs) {
        await stream.write(`: heartbeat ${new Date().toISOString()}\n\n`);
        lastWrite = Date.now();
      }
      return false;
    };
    // Waits between polls end at once when the client goes away.
    let wake = (): void => undefined;
    stream.onAbort(() => wake());
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    await stream.write(`retry: ${Math.max(1000, settings.pollMs * 2)}\n\n`);
    while (!stream.aborted) {
      const ended = await tick().catch(async (error: unknown) => {
        await send('error', { message: (error as Error).message });
        return false;
      });
      if (ended) return;
      await pause(settings.pollMs);
    }
  });
  // streamSSE sets its own Content-Type and Cache-Control; the API's are kept as they were.
  for (const [name, value] of Object.entries({
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'x-accel-buffering': 'no',
  }))
    response.headers.set(name, value);
  return response;
}
