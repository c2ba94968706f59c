/**
 * The Python trainer of docker/trainer with its `hf` backend (real transformers
 * 5.19 on the CPU), run by the live venv's python on the tiny checkpoint the
 * live vLLM serves, with the same processor pixel bounds. Stopped by its
 * process id; its output goes to a log file next to vLLM's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LiveVllmInfo } from './vllm-server.js';
import { REPO_ROOT } from './vllm-server.js';

const TRAINER_DIR = join(REPO_ROOT, 'docker', 'trainer');

/** A running hf trainer. */
export interface HfTrainer {
  readonly url: string;
  /** Where a disk weight send writes (`DIFFERAD_TRAINER_WEIGHTS_DIR`). */
  readonly weightsDir: string;
  readonly logFile: string;
  /** Spawn to "differad trainer ready", ms. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/**
 * Starts `python -m differad_trainer --backend hf --model <checkpoint> --port 0` in `stateDir`
 * and resolves once it printed that the model is loaded. Plain PyTorch AdamW (no DeepSpeed),
 * bf16 weights like the checkpoint, fp32 masters (docker/trainer/README.md).
 */
export async function startHfTrainer(live: LiveVllmInfo, stateDir: string, env: Readonly<Record<string, string>> = {}): Promise<HfTrainer> {
  const logFile = join(stateDir, 'trainer.log');
  const weightsDir = join(stateDir, 'weights');
  mkdirSync(stateDir, { recursive: true });
  const log = openSync(logFile, 'w');
  const started = Date.now();
  const child = spawn(
    live.python,
    ['-m', 'differad_trainer', '--host', '127.0.0.1', '--port', '0', '--backend', 'hf', '--model', live.checkpoint],
    {
      cwd: TRAINER_DIR,
      stdio: ['ignore', 'pipe', log],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? stateDir,
        PYTHONPATH: TRAINER_DIR,
        PYTHONDONTWRITEBYTECODE: '1',
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        DIFFERAD_TRAINER_CHECKPOINT_DIR: join(stateDir, 'checkpoints'),
        DIFFERAD_TRAINER_WEIGHTS_DIR: weightsDir,
        DIFFERAD_TRAINER_MIN_PIXELS: String(live.pixels.minPixels),
        DIFFERAD_TRAINER_MAX_PIXELS: String(live.pixels.maxPixels),
        DIFFERAD_TRAINER_DEEPSPEED_CONFIG: '',
        DIFFERAD_TRAINER_LOG_LEVEL: 'warning',
        ...env,
      },
    },
  );
  closeSync(log);
  const pid = child.pid;
  const kill = () => {
    if (pid !== undefined && !exited(child)) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', kill);
    if (exited(child)) return;
    const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill('SIGTERM');
    const timer = setTimeout(kill, 15_000);
    await gone;
    clearTimeout(timer);
  };
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      let tail = '';
      try {
        tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
      } catch {
        // no log
      }
      reject(new Error(`the hf trainer ${why}\nstdout:\n${out}\n${logFile}:\n${tail}`));
    };
    const timer = setTimeout(() => {
      void stop();
      fail('was not ready within 300 s');
    }, 300_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && out.includes('differad trainer ready')) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited (${code ?? signal}) before it was ready`);
    });
  });
  return { url, weightsDir, logFile, startupMs: Date.now() - started, stop };
}
