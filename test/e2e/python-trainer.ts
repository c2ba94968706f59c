/** Starts the Python trainer of docker/trainer (tiny backend) as a real process, for e2e tests. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.DIFFERAD_TEST_PYTHON ?? '/usr/bin/python3';
export const TRAINER_DIR = fileURLToPath(new URL('../../docker/trainer/', import.meta.url));
export const pythonEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? tmpdir(),
  PYTHONPATH: TRAINER_DIR,
  PYTHONDONTWRITEBYTECODE: '1',
};

/** Why the Python trainer cannot run here, or null when it can (npm test installs the packages as root). */
export function pythonTrainerMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, fastapi, uvicorn, httpx'], { encoding: 'utf8', env: pythonEnv });
  return probe.status === 0
    ? null
    : `${PYTHON} cannot import torch/fastapi/uvicorn/httpx (install python3-torch python3-fastapi python3-uvicorn python3-httpx): ${probe.stderr || probe.error}`;
}

/** Starts `python -m differad_trainer --port <port>` (0: a free one); `url` resolves once it listens and the model is loaded. */
export function startPythonTrainer(stateDir: string, port = 0): { child: ChildProcess; url: Promise<string>; stop(): Promise<void> } {
  const child = spawn(PYTHON, ['-m', 'differad_trainer', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: TRAINER_DIR,
    env: {
      ...pythonEnv,
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
  url.catch(() => undefined);
  return {
    child,
    url,
    async stop() {
      // Gone already (exitCode stays null for a process killed by a signal).
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
