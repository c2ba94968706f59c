/** @differad/cpu-policy — the built-in CPU policy: a reference-difference detector behind an OpenAI-compatible API. */
export { CPU_POLICY_MODEL, CpuPolicyServer } from './cpu-policy-server.js';
export { CPU_POLICY_ERRORS } from './cpu-policy-errors.js';
export { loadCpuPolicy } from './policy-file.js';
export { computeAnomalyMap } from './policy-engine.js';
