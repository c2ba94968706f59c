/**
 * @differad/cli — the `differad` program. bin/differad.js and the build run
 * src/main.ts by path, so the index exports only the synthesis pool that
 * bench/synth drives directly.
 */
export { createPairPool } from './synth/pair-pool.js';
