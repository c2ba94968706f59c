import type { TrainConfig } from '@differad/config';
import type { SubmitEvalBody, SubmitSynthBody } from '../schemas/job-schemas.js';

/** A training config whose run id is set and whose paths are resolved: what a launcher starts. */
export type LaunchableTrainConfig = TrainConfig & { readonly run: TrainConfig['run'] & { readonly id: string } };

/**
 * Starts and stops training runs. The trainer (the orchestrator) records the
 * run in the run store and writes its state, steps and metrics; the API
 * records a cancel after `cancel`.
 */
export interface RunLauncher {
  /**
   * Starts training and resolves once the run is in the run store (not when
   * it ends); API_JOB_START_FAILED when it gave up before that, API_CONFLICT
   * when the id was taken in between.
   */
  start(config: LaunchableTrainConfig): Promise<{ runId: string }>;
  /** Stops a run this launcher started and resolves once it has stopped; false when it has nothing running for `runId`. */
  cancel(runId: string): Promise<boolean>;
}

/** Starts and stops one kind of job (evaluation or synthesis) writing to `outDir`. */
export interface JobLauncher<Spec> {
  /** Starts job `id`; the API has recorded it as `running`. The launcher records how it ends in the job store. */
  start(id: string, spec: Spec, outDir: string): Promise<void>;
  /** Stops a job this launcher started; false when it has nothing running for `id`. */
  cancel(id: string): Promise<boolean>;
}

/** `differad eval` jobs. */
export type EvalLauncher = JobLauncher<SubmitEvalBody>;
/** `differad synth` jobs. */
export type SynthLauncher = JobLauncher<SubmitSynthBody>;

/** The three launchers the API submits work through, and how to stop all they started. */
export interface Launchers {
  readonly runs: RunLauncher;
  readonly evals: EvalLauncher;
  readonly synth: SynthLauncher;
  /** Stops everything still running that these launchers started. */
  close(): Promise<void>;
}

/** The `differad eval` arguments of a job (paths already resolved). */
export function toEvalArgs(spec: SubmitEvalBody, outDir: string): string[] {
  const policy =
    spec.policy.kind === 'cpu' ? ['--policy', 'cpu'] : ['--endpoint', spec.policy.endpoints.join(','), '--model', spec.policy.model];
  return [
    'eval',
    '--manifest',
    spec.manifest,
    '--out',
    outDir,
    ...policy,
    '--family',
    spec.family,
    '--frame',
    spec.frame,
    '--concurrency',
    String(spec.concurrency),
    '--seed',
    String(spec.seed),
    ...(spec.prompts === undefined ? [] : ['--prompts', spec.prompts]),
    ...(spec.limit === undefined ? [] : ['--limit', String(spec.limit)]),
  ];
}

/** The `differad synth` arguments of a job (paths already resolved). */
export function toSynthArgs(spec: SubmitSynthBody, outDir: string): string[] {
  return [
    'synth',
    '--normals',
    spec.normals,
    '--out',
    outDir,
    '--count',
    String(spec.count),
    '--p-normal',
    String(spec.pNormal),
    '--size',
    String(spec.size),
    '--seed',
    String(spec.seed),
    '--jobs',
    String(spec.jobs),
    '--foreground',
    spec.foregroundMasks === undefined ? spec.foreground : `masks:${spec.foregroundMasks}`,
    '--format',
    spec.format,
    ...(spec.textures === undefined ? [] : ['--textures', spec.textures]),
    ...(spec.class === undefined ? [] : ['--class', spec.class]),
    ...(spec.jsonl ? ['--jsonl'] : []),
  ];
}
