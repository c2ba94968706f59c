import type { Frame, ModelFamily } from '@differad/core';
import type { EvalConcurrency } from './eval-loop.js';

/** Options of `differad eval`. */
export interface EvalOptions {
  /** Required unless --run names a run with a held-out manifest (its data.eval is the default then). */
  manifest?: string;
  out: string;
  endpoint?: string;
  model?: string;
  policy?: 'cpu';
  /** A finished run whose final CPU policy is served in process: a run id under --runs-dir, or a run folder. */
  run?: string;
  /** Where --run looks a run id up (default `runs`). */
  runsDir?: string;
  /** A CPU policy file (GaussianPolicy JSON) served in process. */
  policyFile?: string;
  family: ModelFamily;
  frame: Frame;
  prompts?: string;
  concurrency: EvalConcurrency;
  limit?: number;
  seed: number;
  /** Deadline of one request, seconds. */
  timeout: number;
  json?: boolean;
  /** Start afresh even when --out holds answers of other settings (eval's own files there are removed). */
  force?: boolean;
}

/** Whether the model is the built-in CPU policy in this process (its default policy, a run's final one, or a file). */
export function isInProcessPolicy(opts: Pick<EvalOptions, 'policy' | 'run' | 'policyFile'>): boolean {
  return opts.policy === 'cpu' || opts.run !== undefined || opts.policyFile !== undefined;
}

/**
 * What is wrong with a combination of options, or null: the backend is
 * --endpoint with --model, or the CPU policy in process (--policy cpu, --run
 * or --policy-file), which answers differad text in norm1000.
 */
export function describeEvalOptionProblem(
  opts: Pick<EvalOptions, 'manifest' | 'endpoint' | 'model' | 'policy' | 'run' | 'runsDir' | 'policyFile' | 'family' | 'frame'>,
): string | null {
  const cpu = isInProcessPolicy(opts);
  if (opts.run !== undefined && opts.policyFile !== undefined) return "pass either --run (a run's final policy) or --policy-file, not both";
  if (cpu && opts.endpoint !== undefined) {
    return opts.policy === 'cpu'
      ? 'pass either --endpoint (with --model) or --policy cpu, not both'
      : '--run and --policy-file evaluate a CPU policy in this process: drop --endpoint (or evaluate a served model with --endpoint alone)';
  }
  if (!cpu && opts.endpoint === undefined)
    return 'pass --endpoint URL[,URL…] with --model NAME, or --policy cpu (or --run RUN / --policy-file FILE for a trained CPU policy)';
  if (opts.endpoint !== undefined && opts.model === undefined) return '--endpoint needs --model NAME (the served model name)';
  if (cpu && (opts.frame !== 'norm1000' || opts.family !== 'differad')) {
    return 'the CPU policy answers in the differad format in norm1000: drop --family/--frame or set them to differad/norm1000';
  }
  if (opts.runsDir !== undefined && opts.run === undefined) return '--runs-dir is where --run looks a run id up: pass --run RUN with it';
  if (opts.manifest === undefined && opts.run === undefined)
    return "pass --manifest FILE (with --run it defaults to the run's held-out manifest)";
  return null;
}
