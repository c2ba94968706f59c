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
 * vLLM 0.32.0's control endpoints (docs/vllm-protocol.md §4), each a thin
 * typed call with a deadline. They exist only on a server started with
 * `VLLM_SERVER_DEV_MODE=1`; the weight-transfer ones also need
 * `--weight-transfer-config`. `init_info` / `update_info` are built by the
 * backend's dataclass with `cls(**info)` on the server, so the caller sends
 * exactly its fields (an unknown one is a 500).
 */
export interface VllmControl {
  readonly url: string;
  /** `POST /pause?mode=…&clear_cache=…`: new requests wait until resume. */
  pause(options?: { readonly mode?: PauseMode; readonly clearCache?: boolean }): Promise<void>;
  /** `POST /resume`. */
  resume(): Promise<void>;
  /** `GET /is_paused`. */
  isPaused(): Promise<boolean>;
  /** `POST /init_weight_transfer_engine {init_info}`; blocks until every rank of the group joined. */
  initWeightTransferEngine(initInfo: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** `POST /shutdown_weight_transfer_engine`: leaves the group (no-op without one; refused during an update). */
  shutdownWeightTransferEngine(): Promise<void>;
  /** `POST /start_weight_update` (no body). */
  startWeightUpdate(): Promise<unknown>;
  /** `POST /update_weights {update_info}` (may be called several times for chunked transfers). */
  updateWeights(updateInfo: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** `POST /finish_weight_update {weight_version?}` (a string on the server). */
  finishWeightUpdate(weightVersion?: string): Promise<unknown>;
  /** `POST /collective_rpc {method, kwargs}`: the results of every worker. */
  collectiveRpc(method: string, kwargs?: Readonly<Record<string, unknown>>): Promise<unknown>;
  /** `collective_rpc reload_weights {weights_path}`: loads a checkpoint folder in place (the disk sync). */
  reloadWeights(weightsPath: string): Promise<void>;
  /** `GET /get_world_size`: TP × PP × DP, the NCCL ranks the server occupies. */
  getWorldSize(): Promise<number>;
  /** `POST /reset_prefix_cache`: cached prefixes were computed with the old weights; false while blocks are held. */
  resetPrefixCache(): Promise<boolean>;
  /** `GET /v1/models`. */
  listModels(): Promise<ServedModel[]>;
  /** `GET /health` within `timeoutMs` (default: the control's deadline): resolves on 200, throws the DifferadError of any other answer. */
  health(timeoutMs?: number): Promise<void>;
  /** `GET /version`: the vLLM release, e.g. `0.32.0`. */
  version(): Promise<string>;
  /** `GET /server_info?config_format=json`: `vllm_config` as JSON, unvalidated (its shape follows the release). */
  serverInfo(): Promise<unknown>;
  /** `POST /update_weight_version {new_version}`: labels the weights served now (no load). */
  updateWeightVersion(newVersion: string): Promise<void>;
  /** `GET /weight_info` within `timeoutMs` (default: the control's deadline): the engine's version label ("default" until a finish or update sets it; null if absent). */
  weightInfo(timeoutMs?: number): Promise<string | null>;
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
  const get = async (path: string, deadlineMs = timeoutMs): Promise<{ json: unknown; requestId: string }> => {
    const requestId = `control-${++counter}`;
    const { json } = await connection.callJson({ method: 'GET', path, timeoutMs: deadlineMs, requestId });
    return { json, requestId };
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
    async shutdownWeightTransferEngine() {
      await post('/shutdown_weight_transfer_engine');
    },
    startWeightUpdate: () => post('/start_weight_update'),
    updateWeights: (updateInfo) => post('/update_weights', { update_info: updateInfo }),
    finishWeightUpdate: (weightVersion) =>
      post('/finish_weight_update', weightVersion === undefined ? {} : { weight_version: weightVersion }),
    collectiveRpc: (method, kwargs = {}) => post('/collective_rpc', { method, kwargs }),
    async reloadWeights(weightsPath) {
      await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: weightsPath } });
    },
    async updateWeightVersion(newVersion) {
      await post('/update_weight_version', { new_version: newVersion });
    },
    async getWorldSize() {
      const json = await get('/get_world_size');
      const parsed = z.object({ world_size: z.number().int().min(1) }).safeParse(json.json);
      if (!parsed.success)
        throw toBadResponseError('world_size', 'expected a positive integer', { server: connection.url, requestId: json.requestId });
      return parsed.data.world_size;
    },
    async resetPrefixCache() {
      const reply = await post('/reset_prefix_cache');
      return (reply as { success?: unknown } | null)?.success !== false;
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
    async health(deadlineMs) {
      await connection.call({ method: 'GET', path: '/health', timeoutMs: deadlineMs ?? timeoutMs, requestId: `control-${++counter}` });
    },
    async version() {
      const json = await get('/version');
      const parsed = z.object({ version: z.string() }).safeParse(json.json);
      if (!parsed.success) throw toBadResponseError('version', 'expected a string', { server: connection.url, requestId: json.requestId });
      return parsed.data.version;
    },
    serverInfo: async () => (await get('/server_info?config_format=json')).json,
    async weightInfo(deadlineMs) {
      const json = await get('/weight_info', deadlineMs ?? timeoutMs);
      const parsed = z.object({ weight_version: z.union([z.string(), z.number()]).nullish() }).safeParse(json.json);
      if (!parsed.success)
        throw toBadResponseError('weight_version', 'expected a string or null', { server: connection.url, requestId: json.requestId });
      const v = parsed.data.weight_version;
      return v === null || v === undefined ? null : String(v);
    },
    close: () => connection.close(),
  };
}
