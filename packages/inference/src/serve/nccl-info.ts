/**
 * vLLM 0.32.0's NCCL dataclasses as the worker builds them with `cls(**info)`
 * (docs/vllm-protocol.md §4.3): `NCCLWeightTransferInitInfo`
 * (distributed/weight_transfer/nccl_common.py) and
 * `NCCLWeightTransferUpdateInfo` (distributed/weight_transfer/nccl_engine.py).
 * An unknown or missing field is Python's TypeError, wrapped as vLLM wraps it.
 */

/** The worker-side init info of the `nccl` backend. */
export interface NcclInitInfo {
  readonly master_address: string | null;
  readonly master_port: number | null;
  readonly rank_offset: number;
  readonly world_size: number;
  readonly nccl_unique_id_b64: string | null;
  readonly packed: boolean;
  readonly packed_buffer_size_bytes: number;
  readonly packed_num_buffers: number;
}

/** The per-round update info of the `nccl` backend. */
export interface NcclUpdateInfo {
  readonly names: readonly string[];
  readonly dtype_names: readonly string[];
  readonly shapes: readonly (readonly number[])[];
}

/** vLLM's DEFAULT_PACKED_BUFFER_SIZE_BYTES and DEFAULT_PACKED_NUM_BUFFERS (packed_tensor.py). */
export const NCCL_PACKED_DEFAULTS = { packed_buffer_size_bytes: 1024 * 1024 * 1024, packed_num_buffers: 2 } as const;

type Parsed<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'error'; readonly message: string };

const INIT_FIELDS = [
  'master_address',
  'master_port',
  'rank_offset',
  'world_size',
  'nccl_unique_id_b64',
  'packed',
  'packed_buffer_size_bytes',
  'packed_num_buffers',
];
const UPDATE_FIELDS = ['names', 'dtype_names', 'shapes'];

/** Python's message for `cls(**kwargs)` with an unknown or missing keyword, or null. */
function checkKeywords(
  cls: string,
  info: Record<string, unknown>,
  fields: readonly string[],
  required: readonly string[],
  kwOnly: boolean,
): string | null {
  const unknown = Object.keys(info).find((k) => !fields.includes(k));
  if (unknown !== undefined) return `${cls}.__init__() got an unexpected keyword argument '${unknown}'`;
  const missing = required.filter((k) => !(k in info));
  if (missing.length === 0) return null;
  const names = missing.map((k) => `'${k}'`);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `${cls}.__init__() missing ${missing.length} required ${kwOnly ? 'keyword-only ' : 'positional '}argument${missing.length > 1 ? 's' : ''}: ${list}`;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * `NCCLWeightTransferInitInfo(**init_info)` and its `__post_init__`. The
 * dataclass does not check types; a wrong type fails later in the worker, so
 * it is refused here too (the same 500 either way).
 */
export function parseNcclInitInfo(info: Record<string, unknown>): Parsed<NcclInitInfo> {
  const cls = 'NCCLWeightTransferInitInfo';
  const keywords = checkKeywords(cls, info, INIT_FIELDS, ['rank_offset', 'world_size'], true);
  if (keywords) return { kind: 'error', message: `Invalid init_info for NCCLWeightTransferEngine: ${keywords}` };
  const v = {
    master_address: null,
    master_port: null,
    nccl_unique_id_b64: null,
    packed: false,
    ...NCCL_PACKED_DEFAULTS,
    ...info,
  } as Record<string, unknown>;
  const wrong =
    (v.master_address !== null && typeof v.master_address !== 'string' && 'master_address') ||
    (v.master_port !== null && !isInt(v.master_port) && 'master_port') ||
    (!isInt(v.rank_offset) && 'rank_offset') ||
    (!isInt(v.world_size) && 'world_size') ||
    (typeof v.packed !== 'boolean' && 'packed') ||
    (!isInt(v.packed_buffer_size_bytes) && 'packed_buffer_size_bytes') ||
    (!isInt(v.packed_num_buffers) && 'packed_num_buffers');
  if (wrong) return { kind: 'error', message: `${cls}: ${wrong} has the wrong type (${JSON.stringify(v[wrong])})` };
  const hasUid = typeof v.nccl_unique_id_b64 === 'string' && v.nccl_unique_id_b64 !== '';
  if (hasUid && (v.master_address !== null || v.master_port !== null)) {
    return { kind: 'error', message: `${cls}: pass nccl_unique_id_b64 OR master_address/master_port, not both` };
  }
  if (!hasUid && (v.master_address === null || v.master_port === null)) {
    const py = (x: unknown) => (x === null ? 'None' : typeof x === 'string' ? `'${x}'` : String(x));
    return {
      kind: 'error',
      message: `${cls}: need nccl_unique_id_b64, or both master_address and master_port (got master_address=${py(v.master_address)}, master_port=${py(v.master_port)})`,
    };
  }
  return { kind: 'ok', value: v as unknown as NcclInitInfo };
}

/** `NCCLWeightTransferUpdateInfo(**update_info)` and its `__post_init__` length checks. */
export function parseNcclUpdateInfo(info: Record<string, unknown>): Parsed<NcclUpdateInfo> {
  const cls = 'NCCLWeightTransferUpdateInfo';
  const keywords = checkKeywords(cls, info, UPDATE_FIELDS, UPDATE_FIELDS, false);
  if (keywords) return { kind: 'error', message: `Invalid update_info for NCCLWeightTransferEngine: ${keywords}` };
  const { names, dtype_names: dtypes, shapes } = info;
  if (!Array.isArray(names) || !Array.isArray(dtypes) || !Array.isArray(shapes))
    return { kind: 'error', message: `${cls}: names, dtype_names and shapes must be lists` };
  if (dtypes.length !== names.length)
    return { kind: 'error', message: `\`dtype_names\` should be of the same size as \`names\`: got ${dtypes.length} and ${names.length}` };
  if (shapes.length !== names.length)
    return { kind: 'error', message: `\`shapes\` should be of the same size as \`names\`: got ${shapes.length} and ${names.length}` };
  return { kind: 'ok', value: { names, dtype_names: dtypes, shapes } as NcclUpdateInfo };
}
