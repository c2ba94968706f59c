/** @differad/cpu-trainer — the built-in CPU trainer: trainer API v1 for the CPU policy's Gaussian parameters. */
export { type CpuTrainer, type CpuTrainerAddress, type CpuTrainerOptions, createCpuTrainer } from './cpu-trainer.js';
export { CpuCheckpointSchema, type CpuCheckpoint } from './storage/state-files.js';
