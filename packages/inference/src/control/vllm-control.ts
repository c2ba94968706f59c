import { z } from 'zod';
import { toBadResponseError } from '../http/http-errors.js';
import { createServerConnection, type ServerConnection } from '../http/server-connection.js';
import type { Clock } from '../time/clock.js';

/** How `/pause` treats requests in flight (vLLM's `mode` query parameter). */
export type PauseMode = 'abort' | 'wait' | 'keep';

/** Options of {@link createVllmControl}. */
export interface VllmControlOptions {
  /** The server's base URL. */
  readonly url: string;
  /** Deadline of every call, ms (default 300 000: weight transfers are slow). */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

/** A model as `/v1/models` lists it. */
export interface ServedModel {
  readonly id: string;
  readonly maxModelLen: number | null;
}

const ModelListSchema = z.object({ data: z.array(z.object({ id: z.string(), max_model_len: z.number().int().nullish() })) });

/**
 * vLLM's control endpoints, each a thin typed call with a deadline. The
 * weight-transfer routes exist only on a server started with
 * `VLLM_SERVER_DEV_MODE=1` and `--weight-transfer-config`; their bodies carry
 * backend-specific `init_info` / `update_info` objects, passed through as is.
 * On any error during an update the caller should still call
 * `finishWeightUpdate` and then re-initialize (docs/architecture.md §6).
 */
export interface VllmControl {
  readonly url: string;
  /** `POST /pause?mode=…&clear_cache=…`: new requests wait until resume. */
  pause(options?: { readonly mode?: PauseMode; readonly clearCache?: boolean }): Promise<void>;
  /** `POST /resume`. */
  resume(): Promise<void>;
  /** `GET /is_paused`. */
  isPaused(): Promise<boolean>;
  /** `POST /init_weight_transfer_engine {init_info}`. */
  initWeightTransferEngine(initInfo: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** `POST /start_weight_update`. */
  startWeightUpdate(body?: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** `POST /update_weights {update_info}` (may be called several times for chunked transfers). */
  updateWeights(updateInfo: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** `POST /finish_weight_update`. */
  finishWeightUpdate(body?: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** `POST /reset_prefix_cache`: cached prefixes were computed with the old weights. */
  resetPrefixCache(): Promise<void>;
  /** `GET /v1/models`. */
  listModels(): Promise<ServedModel[]>;
  close(): Promise<void>;
}

let counter = 0;

/** Creates a control client for one server. Failures are the same DifferadErrors as the fleet's. */
export function createVllmControl(options: VllmControlOptions): VllmControl {
  const connection: ServerConnection = createServerConnection(options.url, { clock: options.clock, connections: 4 });
  const timeoutMs = options.timeoutMs ?? 300_000;
  const post = async (path: string, body?: unknown): Promise<unknown> => {
    const reply = await connection.call({ method: 'POST', path, body: body ?? {}, timeoutMs, requestId: `control-${++counter}` });
    if (reply.text.trim() === '') return null;
    try {
      return JSON.parse(reply.text) as unknown;
    } catch {
      return reply.text;
    }
  };
  return {
    url: connection.url,
    async pause(o = {}) {
      const q = new URLSearchParams({ mode: o.mode ?? 'keep', clear_cache: String(o.clearCache ?? true) });
      await post(`/pause?${q}`);
    },
    async resume() {
      await post('/resume');
    },
    async isPaused() {
      const requestId = `control-${++counter}`;
      const { json } = await connection.callJson({ method: 'GET', path: '/is_paused', timeoutMs, requestId });
      const parsed = z.object({ is_paused: z.boolean() }).safeParse(json);
      if (!parsed.success) throw toBadResponseError('is_paused', 'expected a boolean', { server: connection.url, requestId });
      return parsed.data.is_paused;
    },
    initWeightTransferEngine: (initInfo) => post('/init_weight_transfer_engine', { init_info: initInfo }),
    startWeightUpdate: (body) => post('/start_weight_update', body),
    updateWeights: (updateInfo) => post('/update_weights', { update_info: updateInfo }),
    finishWeightUpdate: (body) => post('/finish_weight_update', body),
    async resetPrefixCache() {
      await post('/reset_prefix_cache');
    },
    async listModels() {
      const requestId = `control-${++counter}`;
      const { json } = await connection.callJson({ method: 'GET', path: '/v1/models', timeoutMs, requestId });
      const parsed = ModelListSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw toBadResponseError(issue.path.join('.') || '(body)', issue.message, { server: connection.url, requestId });
      }
      return parsed.data.data.map((m) => ({ id: m.id, maxModelLen: m.max_model_len ?? null }));
    },
    close: () => connection.close(),
  };
}
