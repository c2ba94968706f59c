/** @differad/cpu-trainer — the built-in CPU trainer: trainer API v1 for the CPU policy's Gaussian parameters. */
export { type CpuTrainer, createCpuTrainer } from './cpu-trainer.js';
