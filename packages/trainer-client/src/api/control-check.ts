import { TRAINER_API_VERSION } from './common.js';
import {
  type HealthResponse,
  HealthResponseSchema,
  type OptimStepResponse,
  OptimStepResponseSchema,
  type SendWeightsResponse,
  SendWeightsResponseSchema,
  WEIGHT_BACKENDS,
} from './control.js';
import { isRunId, isStep } from './forward-backward-check.js';
import { countDefined, hasOnlyKeys, isArrayOf, isIntIn, isNumberIn, isRecord, isStringIn, keysOf } from './hand-check.js';

/*
 * The replies of every step checked by hand (health before a step, optim_step
 * and the weight send after it), as forward-backward-check.ts does for
 * forward_backward: true exactly when the schema accepts the reply. Every
 * limit here is the schema's: change both.
 */

const HEALTH_KEYS = keysOf(HealthResponseSchema);
const PENDING_KEYS: ReadonlySet<string> = new Set(['step', 'received', 'expected']);
const OPTIM_STEP_KEYS = keysOf(OptimStepResponseSchema);
const SEND_WEIGHTS_KEYS = keysOf(SendWeightsResponseSchema);
const BACKENDS: ReadonlySet<unknown> = new Set(WEIGHT_BACKENDS);

function isPending(v: unknown): boolean {
  return (
    v === null || (isRecord(v) && isStep(v.step) && isIntIn(v.received, 0) && isIntIn(v.expected, 1) && hasOnlyKeys(v, PENDING_KEYS, 3))
  );
}

/** HealthResponseSchema accepts `v`. */
export function isHealthResponse(v: unknown): v is HealthResponse {
  return (
    isRecord(v) &&
    (v.status === 'ok' || v.status === 'starting') &&
    v.api_version === TRAINER_API_VERSION &&
    isStringIn(v.backend, 1, Number.POSITIVE_INFINITY) &&
    isStringIn(v.model, 1, Number.POSITIVE_INFINITY) &&
    isIntIn(v.world_size, 1) &&
    (v.run === null || isRunId(v.run)) &&
    (v.step === null || isStep(v.step)) &&
    isIntIn(v.weight_version, 0) &&
    isPending(v.pending) &&
    (v.features === undefined || isArrayOf(v.features, 0, 64, (f) => isStringIn(f, 1, Number.POSITIVE_INFINITY))) &&
    hasOnlyKeys(v, HEALTH_KEYS, 9 + countDefined(v.features))
  );
}

/** OptimStepResponseSchema accepts `v`. */
export function isOptimStepResponse(v: unknown): v is OptimStepResponse {
  return (
    isRecord(v) &&
    isRunId(v.run) &&
    isStep(v.step) &&
    typeof v.applied === 'boolean' &&
    typeof v.duplicate === 'boolean' &&
    v.applied !== v.duplicate &&
    (v.grad_norm === null || isNumberIn(v.grad_norm, 0, Number.POSITIVE_INFINITY)) &&
    isStep(v.weight_version) &&
    isIntIn(v.micro_batches, 0) &&
    isIntIn(v.sequences, 0) &&
    hasOnlyKeys(v, OPTIM_STEP_KEYS, 8)
  );
}

/** SendWeightsResponseSchema accepts `v`. */
export function isSendWeightsResponse(v: unknown): v is SendWeightsResponse {
  return (
    isRecord(v) &&
    BACKENDS.has(v.backend) &&
    isStep(v.version) &&
    (v.path === null || isStringIn(v.path, 1, Number.POSITIVE_INFINITY)) &&
    (v.bytes === null || isIntIn(v.bytes, 0)) &&
    hasOnlyKeys(v, SEND_WEIGHTS_KEYS, 4)
  );
}
