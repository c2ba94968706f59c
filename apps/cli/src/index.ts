/** @differad/cli — the `differad` program, and the synthesis pool bench/synth drives directly. */
export { COMMANDS, type CommandEntry, createFullProgram, createProgram, main } from './main.js';
export { createPairPool, type PairPool } from './synth/pair-pool.js';
