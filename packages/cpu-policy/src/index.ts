/** @differad/cpu-policy — the built-in CPU policy: a reference-difference detector behind an OpenAI-compatible API. */
export { CPU_POLICY_MODEL, type CpuPolicyOptions, CpuPolicyServer } from './cpu-policy-server.js';
export { CPU_POLICY_ERRORS } from './cpu-policy-errors.js';
export { CPU_POLICY_PARAMS, loadCpuPolicy, parseCpuPolicy } from './policy-file.js';
export { type AnomalyMap, type PolicyAnswer, type PolicyRequest, answerPairRequest, computeAnomalyMap, decodeDataUrl } from './policy-engine.js';
