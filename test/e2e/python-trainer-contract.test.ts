/**
 * The trainer contract suite (packages/trainer-client) against the Python trainer of
 * docker/trainer with its `tiny` backend: real processes, the real TypeScript client,
 * so the Python service and the zod schemas cannot drift. Needs Debian's python3-torch,
 * python3-fastapi and python3-uvicorn under /usr/bin/python3 (`npm test` installs them as
 * root); without them the suite fails, naming what is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ContractSample, type ContractTestApi, defineTrainerContract } from '@differad/trainer-client';
import * as vitest from 'vitest';
import { PYTHON, pythonEnv, pythonTrainerMissing, startPythonTrainer, TRAINER_DIR } from './python-trainer.js';

const missing = pythonTrainerMissing();

function loadSample(): ContractSample {
  const out = spawnSync(PYTHON, ['-m', 'differad_trainer.contract_sample'], {
    encoding: 'utf8',
    env: pythonEnv,
    cwd: TRAINER_DIR,
    timeout: 60_000,
  });
  if (out.status !== 0) throw new Error(`contract_sample failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as ContractSample;
}

// Without the packages the suite fails, naming what to install: a trainer left untested is not a pass.
if (missing) vitest.it('has the Python trainer packages', () => vitest.expect.fail(missing));
const api: ContractTestApi = vitest;
const sample = missing ? undefined : loadSample();

defineTrainerContract(
  api,
  'Python trainer (docker/trainer, tiny backend)',
  async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'differad-python-trainer-'));
    const trainer = startPythonTrainer(stateDir);
    return {
      url: await trainer.url,
      sample: sample!,
      async stop() {
        await trainer.stop();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  },
  { timeoutMs: 60_000 },
);
