import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TrainConfig } from '@differad/config';
import { DifferadError, type GaussianPolicy } from '@differad/core';
import { loadCpuPolicy } from '@differad/cpu-policy';
import { type CliIo, resolvePath } from '../cli-io.js';
import { hashFile } from './eval-run-folder.js';

/** A CPU policy file that `differad eval` serves in process (`--run` or `--policy-file`). */
export interface EvalPolicyFile {
  readonly policy: GaussianPolicy;
  /** Absolute path of the file. */
  readonly path: string;
  /** sha256 of its bytes: recorded in eval-run.json, so a resume refuses another policy. */
  readonly sha256: string;
  /** The run it ends, with `--run`. */
  readonly run: {
    readonly id: string;
    readonly dir: string;
    readonly step: number;
    readonly weightVersion: number;
    readonly heldOut: string | undefined;
  } | null;
}

/** The run-folder layout, loaded only for --run: the orchestrator brings BullMQ and the trainer along. */
const loadOrchestrator = () => import('@differad/orchestrator');

async function isRunFolder(dir: string, configFile: string): Promise<boolean> {
  return stat(join(dir, configFile)).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * The folder of `--run RUN`: a run id under the runs folder (`--runs-dir`,
 * default `runs`), else a path to a run folder. EVAL_RUN_UNKNOWN names both
 * places looked in.
 */
export async function resolveRunFolder(io: Pick<CliIo, 'cwd'>, run: string, runsDir: string | undefined): Promise<string> {
  const { RUN_FILES } = await loadOrchestrator();
  const byId = join(resolvePath(io, runsDir ?? 'runs'), run);
  const byPath = resolvePath(io, run);
  const plainId = !run.includes('/') && !run.includes('\\') && run !== '.' && run !== '..';
  for (const dir of plainId ? [byId, byPath] : [byPath]) if (await isRunFolder(dir, RUN_FILES.config)) return resolve(dir);
  const looked = plainId ? `${byId} (--runs-dir${runsDir === undefined ? ', default runs' : ''}) or ${byPath}` : byPath;
  throw new DifferadError(
    'EVAL_RUN_UNKNOWN',
    `no run "${run}": there is no ${RUN_FILES.config} in ${looked}; pass a run id under --runs-dir or the path of a run folder`,
  );
}

/** How to evaluate a run that differad cannot serve: its model behind --endpoint. */
function toEndpointAdvice(config: TrainConfig): string {
  if (config.policy.kind === 'cpu') return 'pass the policy file that trainer wrote (its weights/policy-v<N>.json) with --policy-file FILE';
  const p = config.policy;
  return `serve its trained checkpoint (vLLM) and evaluate it with --endpoint URL --model ${p.model} --family ${p.family} --frame ${p.frame}`;
}

/** The final policy of the run `--run` names (EVAL_RUN_UNKNOWN, EVAL_RUN_UNTRAINED, EVAL_RUN_NOT_CPU otherwise). */
async function loadRunPolicyFile(io: Pick<CliIo, 'cwd'>, run: string, runsDir: string | undefined): Promise<EvalPolicyFile> {
  const { loadRunConfig, locateRunPolicy, RUN_FILES } = await loadOrchestrator();
  const dir = await resolveRunFolder(io, run, runsDir);
  const config = await loadRunConfig(dir).catch((cause: unknown) => {
    throw new DifferadError('EVAL_RUN_UNKNOWN', `${join(dir, RUN_FILES.config)} is not a run config: ${(cause as Error).message}`, {
      cause,
    });
  });
  if (config === null) throw new DifferadError('EVAL_RUN_UNKNOWN', `no run "${run}" in ${dir}`);
  const id = config.run.id ?? run;
  const located = await locateRunPolicy(dir, config);
  if (located.kind === 'external') {
    throw new DifferadError(
      'EVAL_RUN_NOT_CPU',
      `run ${id} was trained by the trainer at ${located.trainerUrl}, not by a CPU trainer differad started, so its weights are not in ${dir}; ${toEndpointAdvice(config)}`,
    );
  }
  if (located.kind === 'untrained')
    throw new DifferadError('EVAL_RUN_UNTRAINED', `run ${id} (${dir}) has no policy to evaluate: ${located.reason}`);
  const policy = await loadCpuPolicy(located.path);
  return {
    policy,
    path: located.path,
    sha256: await hashFile(located.path),
    run: { id, dir, step: located.step, weightVersion: located.weightVersion, heldOut: config.data.eval },
  };
}

/**
 * The CPU policy file this evaluation serves: the final policy of `--run`, the
 * file of `--policy-file` (POLICY_INVALID when it is not one), or null for
 * `--endpoint` and the default policy of `--policy cpu`.
 */
export async function loadEvalPolicyFile(
  io: Pick<CliIo, 'cwd'>,
  opts: { run?: string; policyFile?: string; runsDir?: string },
): Promise<EvalPolicyFile | null> {
  if (opts.run !== undefined) return loadRunPolicyFile(io, opts.run, opts.runsDir);
  if (opts.policyFile === undefined) return null;
  const path = resolvePath(io, opts.policyFile);
  const policy = await loadCpuPolicy(path);
  return { policy, path, sha256: await hashFile(path), run: null };
}
