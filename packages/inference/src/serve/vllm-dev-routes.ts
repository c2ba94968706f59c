import { type NcclInitInfo, type NcclUpdateInfo, parseNcclInitInfo, parseNcclUpdateInfo } from './nccl-info.js';
import type { SlotScheduler } from './slot-scheduler.js';
import { type DevRouteReply, engineFailure, httpError, NOT_FOUND, validationError } from './vllm-errors.js';

export type { DevRouteReply } from './vllm-errors.js';

/** The worker engines vLLM 0.32.0 registers (distributed/weight_transfer/factory.py). There is no `disk`. */
export const WEIGHT_TRANSFER_BACKENDS = ['nccl', 'ipc', 'sparse_nccl', 'sharded_rdt', 'nccl_m2n', 'modelexpress'] as const;
export type WeightTransferBackend = (typeof WEIGHT_TRANSFER_BACKENDS)[number];

/** vLLM's `--logprobs-mode` values (config/model.py); the default is `raw_logprobs`. */
export const LOGPROBS_MODES = ['raw_logprobs', 'processed_logprobs', 'raw_logits', 'processed_logits'] as const;
export type LogprobsMode = (typeof LOGPROBS_MODES)[number];

/** The release whose protocol this module replicates (docs/vllm-protocol.md). */
export const VLLM_VERSION = '0.32.0';

/** One joined NCCL group, seen from a server's ranks. */
export interface NcclEndpoint {
  /** Receives one broadcast of the tensors `update` describes, decoded packed or not; rejects when the transfer fails. */
  receive(update: NcclUpdateInfo, packed: boolean): Promise<void>;
  /** Leaves the group (`shutdown_weight_transfer_engine`). */
  close(): void;
}

/** What carries NCCL broadcasts for a server; tests pass a fake fabric (packages/testing). */
export interface NcclTransport {
  /** Joins the group at `info`'s rendezvous with `ranks`; resolves once every rank of the group joined. */
  join(info: NcclInitInfo, ranks: readonly number[]): Promise<NcclEndpoint>;
}

/** Settings and hooks of {@link createVllmDevRoutes}. */
export interface VllmDevRoutesOptions {
  /** `VLLM_SERVER_DEV_MODE=1`: without it every route here but `/version` is a 404. */
  readonly devMode: boolean;
  /** `--weight-transfer-config {"backend": …}`; null: no flag, no weight-transfer engine. */
  readonly weightTransferBackend: WeightTransferBackend | null;
  /** TP × PP of the server. */
  readonly worldSizePerReplica: number;
  /** DP replicas. */
  readonly dataParallel: number;
  /** Pause holds new requests (every mode here lets running ones finish). */
  readonly scheduler: SlotScheduler;
  /** `collective_rpc reload_weights`: loads `weightsPath` (null: the original model); throws to fail. */
  readonly reloadWeights: (weightsPath: string | null) => Promise<void>;
  /** Carries the nccl backend's broadcasts; absent, `init_weight_transfer_engine` fails like NCCL without a GPU. */
  readonly nccl?: NcclTransport;
  /** `POST /pause?mode=…` beyond holding new requests (the kit's pause modes); absent: the scheduler pauses. */
  readonly pause?: (mode: 'abort' | 'wait' | 'keep') => Promise<void>;
  /** `POST /resume`; absent: the scheduler resumes. */
  readonly resume?: () => void;
  /** The served model name, as `/server_info` reports it in `model_config`. */
  readonly model: string;
  /** `--logprobs-mode`, as `/server_info` reports it in `model_config`. */
  readonly logprobsMode: LogprobsMode;
}

/** The weight-transfer routes of one server. */
export interface VllmDevRoutes {
  /** Answers `route` (`METHOD /path`), or undefined when it is not one of these routes. */
  handle(route: string, query: URLSearchParams, body: unknown): Promise<DevRouteReply | undefined>;
  /** Bumped by every completed weight update and reload (the `/metrics` gauge): how many loads the server took. */
  readonly weightVersion: number;
  /**
   * The engine's version label (v1/engine/core.py `_weight_version`): "default" until a
   * `finish_weight_update {weight_version}` or `update_weight_version {new_version}` sets it.
   */
  readonly weightVersionLabel: string;
}

const asObject = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** The label an engine starts with (v1/engine/core.py `self._weight_version = "default"`). */
export const DEFAULT_WEIGHT_VERSION = 'default';
const NOT_CONFIGURED = 'Weight transfer not configured. Please set weight_transfer_config to enable weight transfer.';
const PAUSE_MODES = new Set(['abort', 'wait', 'keep']);
const RELOAD_KWARGS = new Set(['weights_iterator', 'weights_path', 'is_checkpoint_format']);
const DEV_ROUTES = new Set([
  'POST /pause',
  'POST /resume',
  'GET /is_paused',
  'POST /init_weight_transfer_engine',
  'POST /shutdown_weight_transfer_engine',
  'POST /start_weight_update',
  'POST /update_weights',
  'POST /finish_weight_update',
  'POST /update_weight_version',
  'GET /get_world_size',
  'POST /reset_prefix_cache',
  'POST /collective_rpc',
  'GET /server_info',
  'GET /weight_info',
  'POST /sleep',
  'POST /wake_up',
  'GET /is_sleeping',
]);
/** The executor's sleep tags (v1/executor/abstract.py SLEEP_TAGS). */
const SLEEP_TAGS = ['weights', 'kv_cache'] as const;

/** FastAPI's bool query parsing. */
function parseQueryBool(value: string | null, fallback: boolean): boolean | null {
  if (value === null) return fallback;
  const v = value.toLowerCase();
  if (['1', 'true', 'on', 'yes', 't', 'y'].includes(v)) return true;
  if (['0', 'false', 'off', 'no', 'f', 'n'].includes(v)) return false;
  return null;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * vLLM 0.32.0's dev-mode control routes, with the worker's update state
 * machine (v1/worker/gpu_worker.py) and the nccl backend's dataclasses, so a
 * client that disagrees with the real server fails here as it would there
 * (docs/vllm-protocol.md §4). The fake vLLM and the CPU policy both mount it.
 */
export function createVllmDevRoutes(options: VllmDevRoutesOptions): VllmDevRoutes {
  let endpoint: NcclEndpoint | null = null;
  let packed = false;
  let active = false;
  let updatedInSession = false;
  let weightVersion = 0;
  let weightVersionLabel = DEFAULT_WEIGHT_VERSION;
  const configured = options.weightTransferBackend !== null;
  /** The executor's sleeping tags (v1/executor/abstract.py `sleeping_tags`). */
  const sleeping = new Set<string>();

  /**
   * `POST /sleep?level=0..2&mode=…` (entrypoints/serve/dev/sleep/api_router.py): the engine core pauses
   * the scheduler in `mode`, and from level 1 the executor sleeps with every tag (v1/engine/core.py
   * `sleep`). Nothing is offloaded here, as the CPU worker offloads nothing (v1/worker/cpu_worker.py).
   */
  const sleep = (query: URLSearchParams): DevRouteReply => {
    const raw = query.get('level') ?? '1';
    if (!/^\s*[+-]?\d+\s*$/.test(raw))
      return validationError('query.level', 'Input should be a valid integer, unable to parse string as an integer');
    const level = Number(raw);
    if (level < 0) return validationError('query.level', 'Input should be greater than or equal to 0');
    if (level > 2) return validationError('query.level', 'Input should be less than or equal to 2');
    if (!PAUSE_MODES.has(query.get('mode') ?? 'abort')) return validationError('query.mode', "Input should be 'abort', 'wait' or 'keep'");
    options.scheduler.pause();
    if (level >= 1) for (const tag of SLEEP_TAGS) sleeping.add(tag);
    return { status: 200, body: { status: 'sleeping', level } };
  };

  /**
   * `POST /wake_up?tags=…`: `scheduling` only resumes; the executor wakes the other tags, or all without
   * tags, and ignores a call naming a tag that is not asleep (v1/executor/abstract.py `wake_up`); the
   * scheduler resumes once no tag sleeps (v1/engine/core.py `wake_up`). The reply echoes the tags asked.
   */
  const wakeUp = (query: URLSearchParams): DevRouteReply => {
    const tags = query.getAll('tags').length === 0 ? null : query.getAll('tags');
    const rest = tags === null ? null : tags.filter((t) => t !== 'scheduling');
    if (rest === null) sleeping.clear();
    else if (rest.every((t) => sleeping.has(t))) for (const t of rest) sleeping.delete(t);
    const fullyAwake = sleeping.size === 0;
    if (fullyAwake) options.scheduler.resume();
    return { status: 200, body: { status: fullyAwake ? 'awake' : 'sleeping', tags } };
  };

  const init = async (body: unknown): Promise<DevRouteReply> => {
    const info = asObject(asObject(body)?.init_info);
    if (info === null)
      return validationError(
        'body.init_info',
        asObject(body)?.init_info === undefined ? 'Field required' : 'Input should be a valid dictionary',
      );
    if (!configured) return engineFailure(NOT_CONFIGURED);
    if (options.weightTransferBackend !== 'nccl')
      return engineFailure(`the ${options.weightTransferBackend} backend is not replicated by differad's servers`);
    const parsed = parseNcclInitInfo(info);
    if (parsed.kind === 'error') return engineFailure(parsed.message);
    if (!options.nccl) return engineFailure('NCCL error: no CUDA device on this server');
    const per = options.worldSizePerReplica * options.dataParallel;
    const ranks = Array.from({ length: per }, (_, r) => r + parsed.value.rank_offset);
    try {
      // Like the worker: the old communicator is replaced (not destroyed) by a new init.
      endpoint = await options.nccl.join(parsed.value, ranks);
      packed = parsed.value.packed;
    } catch (error) {
      return engineFailure(messageOf(error));
    }
    return { status: 200, body: { message: 'Weight transfer initialized' } };
  };

  const update = async (body: unknown): Promise<DevRouteReply> => {
    const raw = asObject(body)?.update_info;
    if (raw === undefined) return validationError('body.update_info', 'Field required');
    if (asObject(raw) === null && !Array.isArray(raw))
      return validationError('body.update_info', 'Input should be a valid dictionary or list');
    if (!configured) return engineFailure(NOT_CONFIGURED);
    if (!active) return engineFailure('start_weight_update must be called before update_weights.');
    // Any failure from here on ends the session (gpu_worker.update_weights).
    const fail = (message: string) => {
      active = false;
      return engineFailure(message);
    };
    const info = Array.isArray(raw) ? asObject(raw[0]) : asObject(raw);
    if (info === null) return fail('update_info list entries must be dictionaries');
    const parsed = parseNcclUpdateInfo(info);
    if (parsed.kind === 'error') return fail(parsed.message);
    if (endpoint === null) return fail('NCCL weight transfer not initialized. Call init_transfer_engine() first.');
    try {
      await endpoint.receive(parsed.value, packed);
    } catch (error) {
      return fail(messageOf(error));
    }
    updatedInSession = true;
    return { status: 200, body: { message: 'Weights updated' } };
  };

  const finish = (body: unknown): DevRouteReply => {
    const label = asObject(body)?.weight_version;
    if (label !== undefined && label !== null && typeof label !== 'string')
      return validationError('body.weight_version', 'Input should be a valid string');
    if (!configured) return engineFailure(NOT_CONFIGURED);
    if (!active) return engineFailure('finish_weight_update called without a matching start_weight_update.');
    active = false;
    if (updatedInSession) weightVersion += 1;
    updatedInSession = false;
    if (typeof label === 'string') weightVersionLabel = label;
    return { status: 200, body: { message: 'Weight update finished' } };
  };

  /**
   * `POST /update_weight_version {"new_version": str}` (entrypoints/rl/online/api_router.py): labels the
   * weights served now without loading any (v1/engine/async_llm.py `update_weight_version`); it needs no
   * weight-transfer engine, so the disk sync labels its reloads with it.
   */
  const relabel = (body: unknown): DevRouteReply => {
    const label = asObject(body)?.new_version;
    if (label === undefined) return validationError('body.new_version', 'Field required');
    if (typeof label !== 'string') return validationError('body.new_version', 'Input should be a valid string');
    weightVersionLabel = label;
    return { status: 200, body: { success: true, new_version: label } };
  };

  const collectiveRpc = async (body: unknown): Promise<DevRouteReply> => {
    const request = asObject(body);
    if (request === null) return httpError(400, 'Request body must be a JSON object');
    if (request.method === undefined || request.method === null) return httpError(400, "Missing 'method' in request body");
    if (request.method !== 'reload_weights')
      return engineFailure(`differad's servers replicate only reload_weights, not ${JSON.stringify(request.method)}`);
    const kwargs = asObject(request.kwargs ?? {}) ?? {};
    const unknown = Object.keys(kwargs).find((k) => !RELOAD_KWARGS.has(k));
    if (unknown !== undefined) return engineFailure(`GPUModelRunner.reload_weights() got an unexpected keyword argument '${unknown}'`);
    if (Array.isArray(request.args) && request.args.length > 0)
      return engineFailure('reload_weights takes its arguments as kwargs here (weights_path)');
    const path = kwargs.weights_path;
    if (path !== undefined && path !== null && typeof path !== 'string')
      return engineFailure(`weights_path must be a str, got ${JSON.stringify(path)}`);
    try {
      await options.reloadWeights(path ?? null);
    } catch (error) {
      return engineFailure(messageOf(error));
    }
    weightVersion += 1;
    return { status: 200, body: { results: Array.from({ length: options.worldSizePerReplica }, () => null) } };
  };

  /**
   * `GET /server_info?config_format=json|text` (entrypoints/serve/dev/server_info/api_router.py): the
   * part of `vllm_config` (PydanticVllmConfig.dump_python) differad reads — the model, `logprobs_mode`,
   * the parallel sizes and `weight_transfer_config` (null without the flag) — and the VLLM_* variables.
   */
  const serverInfo = (query: URLSearchParams): DevRouteReply => {
    const format = query.get('config_format') ?? 'text';
    if (format !== 'text' && format !== 'json') return validationError('query.config_format', "Input should be 'text' or 'json'");
    const config = {
      model_config: { model: options.model, served_model_name: options.model, logprobs_mode: options.logprobsMode },
      parallel_config: {
        tensor_parallel_size: options.worldSizePerReplica,
        pipeline_parallel_size: 1,
        data_parallel_size: options.dataParallel,
      },
      weight_transfer_config: options.weightTransferBackend === null ? null : { backend: options.weightTransferBackend },
    };
    const text = `model='${options.model}', logprobs_mode=${options.logprobsMode}, tensor_parallel_size=${options.worldSizePerReplica}, data_parallel_size=${options.dataParallel}`;
    return {
      status: 200,
      body: { vllm_config: format === 'json' ? config : text, vllm_env: { VLLM_SERVER_DEV_MODE: true }, system_env: {} },
    };
  };

  const handle = async (route: string, query: URLSearchParams, body: unknown): Promise<DevRouteReply | undefined> => {
    if (route === 'GET /version') return { status: 200, body: { version: VLLM_VERSION } };
    if (!DEV_ROUTES.has(route)) return undefined;
    if (!options.devMode) return NOT_FOUND;
    switch (route) {
      case 'POST /pause': {
        const mode = query.get('mode') ?? 'abort';
        if (!PAUSE_MODES.has(mode)) return validationError('query.mode', "Input should be 'abort', 'wait' or 'keep'");
        if (parseQueryBool(query.get('clear_cache'), true) === null)
          return validationError('query.clear_cache', 'Input should be a valid boolean');
        if (options.pause) await options.pause(mode as 'abort' | 'wait' | 'keep');
        else options.scheduler.pause();
        return { status: 200, body: { status: 'paused' } };
      }
      case 'POST /resume':
        if (options.resume) options.resume();
        else options.scheduler.resume();
        return { status: 200, body: { status: 'resumed' } };
      case 'GET /is_paused':
        return { status: 200, body: { is_paused: options.scheduler.isPaused() } };
      case 'POST /init_weight_transfer_engine':
        return init(body);
      case 'POST /shutdown_weight_transfer_engine':
        if (active) return engineFailure('Cannot release a trainer connection during a weight update');
        endpoint?.close();
        endpoint = null;
        return { status: 200, body: { message: 'Weight transfer shut down' } };
      case 'POST /start_weight_update':
        if (!configured) return engineFailure(NOT_CONFIGURED);
        if (active)
          return engineFailure('start_weight_update called while a weight update is already active. Call finish_weight_update first.');
        active = true;
        updatedInSession = false;
        return { status: 200, body: { message: 'Weight update started' } };
      case 'POST /update_weights':
        return update(body);
      case 'POST /finish_weight_update':
        return finish(body);
      case 'POST /update_weight_version':
        return relabel(body);
      case 'GET /get_world_size': {
        const includeDp = parseQueryBool(query.get('include_dp'), true);
        if (includeDp === null) return validationError('query.include_dp', 'Input should be a valid boolean');
        return { status: 200, body: { world_size: options.worldSizePerReplica * (includeDp ? options.dataParallel : 1) } };
      }
      case 'POST /reset_prefix_cache':
        return { status: 200, body: { success: true } };
      case 'GET /server_info':
        return serverInfo(query);
      case 'GET /weight_info':
        return { status: 200, body: { weight_version: weightVersionLabel } };
      case 'POST /sleep':
        return sleep(query);
      case 'POST /wake_up':
        return wakeUp(query);
      case 'GET /is_sleeping':
        // v1/engine/core.py is_sleeping: a paused scheduler counts as sleeping.
        return { status: 200, body: { is_sleeping: options.scheduler.isPaused() || sleeping.size > 0 } };
      default:
        return collectiveRpc(body);
    }
  };

  return {
    handle,
    get weightVersion() {
      return weightVersion;
    },
    get weightVersionLabel() {
      return weightVersionLabel;
    },
  };
}
