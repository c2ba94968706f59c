import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CPU_POLICY } from '@differad/core';
import { defineTrainerContract } from '@differad/trainer-client';
import * as vitest from 'vitest';
import { createCpuTrainer } from './cpu-trainer.js';
import { createCpuSample } from './testing/cpu-sample.js';

defineTrainerContract(vitest, 'built-in CPU trainer', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'differad-cpu-trainer-'));
  const trainer = createCpuTrainer({ stateDir });
  const { url } = await trainer.start();
  return {
    url,
    sample: createCpuSample(DEFAULT_CPU_POLICY, 9),
    async stop() {
      await trainer.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
});
