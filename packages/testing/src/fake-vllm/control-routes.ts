import type { SlotScheduler } from '@differad/inference';

/** The mutable weight-transfer state of a fake server. */
export interface ControlState {
  readonly scheduler: SlotScheduler;
  weightVersion: number;
  engineInitialized: boolean;
  updating: boolean;
}

/** A route's answer: status and JSON body. */
export interface ControlReply {
  readonly status: number;
  readonly body: unknown;
}

const PAUSE_MODES = new Set(['abort', 'wait', 'keep']);

const asObject = (body: unknown): Record<string, unknown> | null =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;

/** nccl-style update_info (`names` given): `dtype_names` and `shapes` must be arrays of the same length. */
function checkNcclUpdateInfo(info: Record<string, unknown>): string | null {
  if (info.names === undefined) return null;
  const { names, dtype_names: dtypes, shapes } = info;
  if (!Array.isArray(names) || !Array.isArray(dtypes) || !Array.isArray(shapes)) return 'update_info names, dtype_names and shapes must be arrays';
  if (dtypes.length !== names.length || shapes.length !== names.length) return 'update_info names, dtype_names and shapes must have the same length';
  return null;
}

/**
 * vLLM's dev-mode control endpoints (VLLM_SERVER_DEV_MODE=1). Pause here holds
 * queued and new requests until resume and lets running ones finish, whatever
 * the mode; `update_weights` (disk `{path}` or nccl
 * `{names, dtype_names, shapes}`) bumps the weight version reported in the
 * `x-weight-version` header of every completion. Returns undefined for a route
 * that is not a control route.
 */
export function handleControlRoute(route: string, query: URLSearchParams, body: unknown, state: ControlState): ControlReply | undefined {
  switch (route) {
    case 'POST /pause': {
      const mode = query.get('mode') ?? 'abort';
      if (!PAUSE_MODES.has(mode)) return { status: 400, body: { error: `unknown pause mode ${mode}` } };
      state.scheduler.pause();
      return { status: 200, body: { status: 'paused' } };
    }
    case 'POST /resume':
      state.scheduler.resume();
      return { status: 200, body: { status: 'resumed' } };
    case 'GET /is_paused':
      return { status: 200, body: { is_paused: state.scheduler.isPaused() } };
    case 'POST /init_weight_transfer_engine': {
      if (asObject(asObject(body)?.init_info) === null) return { status: 400, body: { error: 'init_info is required' } };
      state.engineInitialized = true;
      return { status: 200, body: {} };
    }
    case 'POST /start_weight_update':
      if (!state.engineInitialized) return { status: 400, body: { error: 'weight transfer engine not initialized' } };
      state.updating = true;
      return { status: 200, body: {} };
    case 'POST /update_weights': {
      if (!state.engineInitialized) return { status: 400, body: { error: 'weight transfer engine not initialized' } };
      const info = asObject(asObject(body)?.update_info);
      if (info === null) return { status: 400, body: { error: 'update_info is required' } };
      const problem = checkNcclUpdateInfo(info);
      if (problem) return { status: 400, body: { error: problem } };
      state.weightVersion += 1;
      return { status: 200, body: { weight_version: state.weightVersion } };
    }
    case 'POST /finish_weight_update':
      state.updating = false;
      return { status: 200, body: { weight_version: state.weightVersion } };
    case 'POST /reset_prefix_cache':
      return { status: 200, body: {} };
    default:
      return undefined;
  }
}
