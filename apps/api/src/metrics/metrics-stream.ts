import type { RunStore, RunState } from '@differad/queue';
import { SECURITY_HEADERS } from '../http/http-io.js';
import type { RouteContext } from '../http/router.js';
import type { StreamSettings } from '../routes/api-deps.js';

/** States after which no more metric rows come. */
const FINAL_STATES: ReadonlySet<RunState> = new Set(['completed', 'failed']);

/** Options of {@link streamRunMetrics}. */
export interface MetricsStreamOptions {
  readonly store: RunStore;
  readonly runId: string;
  readonly fromStep: number;
  readonly settings: StreamSettings;
}

/** One server-sent event (data is one JSON line, so no field splitting is needed). */
export function toSseEvent(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Streams a run's metric rows as server-sent events until the run ends or the
 * client goes away: polls the run store every `pollMs` (XRANGE after the last
 * step sent, so each row is sent once and in order), sends `state` when the
 * state changes, a heartbeat comment after `heartbeatMs` of silence, and
 * `end` (then closes) once the run is `completed` or `failed` and every row
 * written before that has been sent.
 */
export async function streamRunMetrics(ctx: RouteContext, options: MetricsStreamOptions): Promise<void> {
  const { res, req } = ctx;
  const { store, runId, settings } = options;
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(`retry: ${Math.max(1000, settings.pollMs * 2)}\n\n`);
  let next = options.fromStep;
  let lastState: RunState | null = null;
  let lastWrite = Date.now();
  let closed = false;
  const write = (text: string): void => {
    if (closed) return;
    res.write(text);
    lastWrite = Date.now();
  };

  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      res.end();
      resolve();
    };
    req.once('close', finish);
    res.once('close', finish);
    const tick = async (): Promise<void> => {
      // Read the state first: rows written before a final state are then surely in the read that follows.
      const run = await store.loadRun(runId);
      const rows = await store.readMetrics(runId, { fromStep: next });
      for (const row of rows) {
        write(toSseEvent('metrics', row, row.step));
        next = row.step + 1;
      }
      if (run !== null && run.state !== lastState) {
        lastState = run.state;
        write(toSseEvent('state', run));
      }
      if (run === null || FINAL_STATES.has(run.state)) {
        write(toSseEvent('end', { runId, state: run?.state ?? null }));
        finish();
        return;
      }
      if (Date.now() - lastWrite >= settings.heartbeatMs) write(`: heartbeat ${new Date().toISOString()}\n\n`);
    };
    const loop = (): void => {
      if (closed) return;
      tick()
        .catch((error: unknown) => write(toSseEvent('error', { message: (error as Error).message })))
        .finally(() => {
          if (!closed) timer = setTimeout(loop, settings.pollMs);
        });
    };
    loop();
  });
}
