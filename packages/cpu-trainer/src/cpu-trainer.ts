import { join, resolve } from 'node:path';
import { DEFAULT_CPU_POLICY, DifferadError, type GaussianPolicy, GaussianPolicySchema } from '@differad/core';
import { type RunningServer, startServer } from '@differad/http-server';
import { type HealthResponse, PACKED_COMPLETIONS, TRAINER_API_VERSION } from '@differad/trainer-client';
import { createTrainerApp, type TrainerHandlers } from './http/trainer-app.js';
import { formatTrainerMetrics } from './metrics/trainer-metrics.js';
import { writeConfinedFile } from './storage/confined-files.js';
import { loadCheckpointFile, resolveInside, toCheckpoint } from './storage/state-files.js';
import { scoreTokens } from './training/score-tokens.js';
import { createTrainingState, type TrainingState } from './training/training-state.js';

/** Options of {@link createCpuTrainer}. */
export interface CpuTrainerOptions {
  /**
   * Where checkpoints (`checkpoints/`) and weight files (`weights/`) go; paths from requests must stay inside,
   * and no symbolic link below it is followed (a planted one is refused, one at the file's own path replaced).
   */
  readonly stateDir: string;
  /** Address to bind (default 127.0.0.1: the API can overwrite files in stateDir, keep it private). */
  readonly host?: string;
  /** TCP port; 0 (default) picks a free one, reported by start(). */
  readonly port?: number;
  /** The starting policy and KL reference (default DEFAULT_CPU_POLICY). */
  readonly initialPolicy?: GaussianPolicy;
  /** Name reported as `model` by health (default `differad-cpu-policy`). */
  readonly model?: string;
  /** Largest request body accepted (default 64 MiB). */
  readonly maxBodyBytes?: number;
}

/** What start() reports. */
export interface CpuTrainerAddress {
  readonly url: string;
  readonly port: number;
}

/** A running CPU trainer. */
export interface CpuTrainer {
  /** Binds and resolves with the URL once listening. */
  start(): Promise<CpuTrainerAddress>;
  /** Stops accepting, lets in-flight requests finish (up to 2 s), closes the connections and resolves once closed. */
  close(): Promise<void>;
  /** Position and counters, for the CLI's closing line. */
  stats(): { readonly optimSteps: number; readonly weightVersion: number; readonly step: number | null };
}

/** Mutating requests run one at a time, in arrival order (a checkpoint load cannot interleave with a step). */
function createSerializer(): <T>(work: () => T | Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const next = tail.then(work);
    tail = next.catch(() => undefined);
    return next;
  };
}

/** TRAINER_VERSION_MISMATCH unless the request names the version the trainer holds. */
function checkVersion(requested: number, current: number): void {
  if (requested !== current) {
    throw new DifferadError('TRAINER_VERSION_MISMATCH', `the trainer holds weight version ${current}, not ${requested}`, {
      details: { current },
    });
  }
}

function createHandlers(
  state: TrainingState,
  dirs: { root: string; checkpoints: string; weights: string },
  model: string,
): { handlers: TrainerHandlers; extras: { checkpointsSaved: number; weightsSent: number; requestErrors: number } } {
  const extras = { checkpointsSaved: 0, weightsSent: 0, requestErrors: 0 };
  const serialize = createSerializer();
  const handlers: TrainerHandlers = {
    health: (): HealthResponse => ({
      status: 'ok',
      api_version: TRAINER_API_VERSION,
      backend: 'cpu',
      model,
      world_size: 1,
      ...state.health(),
      features: [PACKED_COMPLETIONS],
    }),
    forwardBackward: (r) => serialize(() => state.forwardBackward(r)),
    optimStep: (r) => serialize(() => state.optimStep(r)),
    saveCheckpoint: (r) =>
      serialize(async () => {
        const snapshot = state.snapshot(r.run, r.step);
        const path = resolveInside(dirs.checkpoints, r.path ?? join(r.run, `step-${r.step}.json`), 'path');
        await writeConfinedFile(dirs.root, path, `${JSON.stringify(toCheckpoint(snapshot), null, 2)}\n`, 'path');
        extras.checkpointsSaved += 1;
        return { run: snapshot.run, step: snapshot.step, weight_version: snapshot.weightVersion, path };
      }),
    loadCheckpoint: (r) =>
      serialize(async () => {
        const path = resolveInside(dirs.checkpoints, r.path ?? join(r.run!, `step-${r.step}.json`), 'path');
        const snapshot = await loadCheckpointFile(dirs.root, path);
        state.restore(snapshot);
        return { run: snapshot.run, step: snapshot.step, weight_version: snapshot.weightVersion, path };
      }),
    sendWeights: (r) =>
      serialize(async () => {
        const policy = state.currentPolicy();
        if (r.backend !== 'disk') {
          throw new DifferadError('TRAINER_BACKEND_UNSUPPORTED', `the CPU trainer sends weights to disk only, not "${r.backend}"`, {
            details: { fields: [{ field: 'backend', message: 'only "disk" is supported by the CPU trainer' }] },
          });
        }
        checkVersion(r.version, policy.version);
        const path = resolveInside(dirs.weights, r.path ?? `policy-v${policy.version}.json`, 'path');
        const bytes = await writeConfinedFile(dirs.root, path, `${JSON.stringify(policy, null, 2)}\n`, 'path');
        extras.weightsSent += 1;
        return { backend: 'disk' as const, version: policy.version, path, bytes };
      }),
    weightsManifest: (r) =>
      serialize(() => {
        const policy = state.currentPolicy();
        checkVersion(r.version, policy.version);
        // Each Gaussian parameter is two float64 scalars, in the policy's key order (toPolicyVector's layout).
        const names = Object.keys(policy.params).flatMap((name) => [`${name}.mean`, `${name}.log_std`]);
        return { version: policy.version, names, dtypes: names.map(() => 'float64'), shapes: names.map(() => []) };
      }),
    // Read-only: no serialization needed, it sees the policy of the last applied step.
    scoreTokens: (r) => scoreTokens(r, state.currentPolicy()),
    metrics: () => formatTrainerMetrics(state.counters, { ...extras, weightVersion: state.health().weight_version }),
  };
  return { handlers, extras };
}

/**
 * The built-in CPU trainer: trainer API v1 (a Hono app on @differad/http-server) for the CPU
 * policy's Gaussian parameters (GRPO loss and analytic gradients from
 * @differad/core, Adam, JSON checkpoints, GaussianPolicy weight files for
 * the CPU policy servers' update_weights).
 */
export function createCpuTrainer(options: CpuTrainerOptions): CpuTrainer {
  const initial = GaussianPolicySchema.parse(options.initialPolicy ?? DEFAULT_CPU_POLICY);
  const stateDir = resolve(options.stateDir);
  const state = createTrainingState(initial);
  const { handlers, extras } = createHandlers(
    state,
    { root: stateDir, checkpoints: join(stateDir, 'checkpoints'), weights: join(stateDir, 'weights') },
    options.model ?? 'differad-cpu-policy',
  );
  const app = createTrainerApp(handlers, {
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
    onError: () => void (extras.requestErrors += 1),
  });
  let server: RunningServer | null = null;

  return {
    async start() {
      if (server) throw new Error('the CPU trainer is already started');
      server = await startServer(app, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
      return { url: server.url, port: server.port };
    },
    async close() {
      await server?.close();
    },
    stats: () => {
      const h = state.health();
      return { optimSteps: state.counters.optimSteps, weightVersion: h.weight_version, step: h.step };
    },
  };
}
