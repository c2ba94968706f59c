/**
 * The trainer contract suite (packages/trainer-client) against the Python trainer of
 * docker/trainer with its `tiny` backend: real processes, the real TypeScript client,
 * so the Python service and the zod schemas cannot drift. Needs Debian's python3-torch,
 * python3-fastapi and python3-uvicorn under /usr/bin/python3 (.ci/run installs them);
 * without them the suite is reported as skipped, naming what is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ContractSample, type ContractTestApi, defineTrainerContract } from '@differad/trainer-client';
import * as vitest from 'vitest';

const PYTHON = process.env.DIFFERAD_TEST_PYTHON ?? '/usr/bin/python3';
const TRAINER_DIR = fileURLToPath(new URL('../../docker/trainer/', import.meta.url));
const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), PYTHONPATH: TRAINER_DIR, PYTHONDONTWRITEBYTECODE: '1' };

const probe = spawnSync(PYTHON, ['-c', 'import torch, fastapi, uvicorn, httpx'], { encoding: 'utf8', env: baseEnv });
const available = probe.status === 0;
if (!available) console.warn(`python trainer contract skipped: ${PYTHON} cannot import torch/fastapi/uvicorn/httpx: ${probe.stderr || probe.error}`);

function loadSample(): ContractSample {
  const out = spawnSync(PYTHON, ['-m', 'differad_trainer.contract_sample'], { encoding: 'utf8', env: baseEnv, cwd: TRAINER_DIR, timeout: 60_000 });
  if (out.status !== 0) throw new Error(`contract_sample failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as ContractSample;
}

/** Starts `python -m differad_trainer --port 0`; resolves with the URL it prints once it also says the model is loaded. */
function startTrainer(stateDir: string): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(PYTHON, ['-m', 'differad_trainer', '--host', '127.0.0.1', '--port', '0'], {
    cwd: TRAINER_DIR,
    env: {
      ...baseEnv,
      DIFFERAD_TRAINER_BACKEND: 'tiny',
      DIFFERAD_TRAINER_CHECKPOINT_DIR: join(stateDir, 'checkpoints'),
      DIFFERAD_TRAINER_WEIGHTS_DIR: join(stateDir, 'weights'),
      DIFFERAD_TRAINER_LOG_LEVEL: 'warning',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      const m = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m && /differad trainer ready/.test(output)) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the Python trainer exited (${code}) before listening:\n${output}`)));
  });
  return { child, url };
}

const api: ContractTestApi = { ...vitest, describe: available ? vitest.describe : (vitest.describe.skip as typeof vitest.describe) };
const sample = available ? loadSample() : undefined;

defineTrainerContract(
  api,
  'Python trainer (docker/trainer, tiny backend)',
  async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'differad-python-trainer-'));
    const { child, url } = startTrainer(stateDir);
    return {
      url: await url,
      sample: sample!,
      async stop() {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        if (child.exitCode === null) child.kill('SIGTERM');
        await exited;
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  },
  { timeoutMs: 60_000 },
);
