import type { JobName } from './job-names.js';
import type { JobPayloads } from './payloads.js';

/**
 * Deterministic BullMQ job ids. Adding a job whose id already exists is a
 * no-op in BullMQ (it returns the existing job), so a retried producer, a
 * restarted coordinator or a duplicated message cannot sample, score or train
 * the same (run, step, pair, attempt) twice while the job is retained
 * (see `removeOnComplete` in job-settings). Fields are joined with '.' and
 * tagged (`s` step, `p` pair, `a` attempt, `r` round): BullMQ
 * reserves ':' and refuses integer-looking custom ids, and run ids cannot
 * contain '.', so an id reads back unambiguously, e.g. `rollout.run-7.s12.p3.a0`.
 * A rerun of a step (round ≥ 1) adds `.r<round>`: `step.run-7.s12.r1`.
 */
export function toJobId<N extends JobName>(name: N, payload: JobPayloads[N]): string {
  return JOB_ID_BUILDERS[name](payload);
}

type IdBuilders = { readonly [N in JobName]: (payload: JobPayloads[N]) => string };

const round = (p: { round?: number | undefined }): string => (p.round ? `.r${p.round}` : '');

const pairId = (name: string, p: { runId: string; step: number; pairIndex: number; attempt: number; round?: number | undefined }): string =>
  `${name}.${p.runId}.s${p.step}.p${p.pairIndex}.a${p.attempt}${round(p)}`;

const JOB_ID_BUILDERS: IdBuilders = {
  rollout: (p) => pairId('rollout', p),
  resample: (p) => pairId('resample', p),
  score: (p) => pairId('score', p),
  step: (p) => `step.${p.runId}.s${p.step}${round(p)}`,
};

/** The fields of a job id made by {@link toJobId}; null for any other id. */
export interface ParsedJobId {
  readonly name: JobName;
  readonly runId: string;
  readonly step: number;
  readonly pairIndex?: number;
  readonly attempt?: number;
  /** Present for a rerun (round ≥ 1). */
  readonly round?: number;
}

const JOB_ID_PATTERN = /^(rollout|resample|score|step)\.([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.s(\d+)(?:\.p(\d+)\.a(\d+))?(?:\.r([1-9]\d*))?$/;

/** Reads a job id back into its fields (for the dashboard and logs); null when it is not one of ours. */
export function parseJobId(id: string): ParsedJobId | null {
  const m = JOB_ID_PATTERN.exec(id);
  if (m === null) return null;
  const [, name, runId, step, pair, attempt, rerun] = m;
  if (name === undefined || runId === undefined || step === undefined) return null;
  const hasPair = pair !== undefined && attempt !== undefined;
  const pairJob = name === 'rollout' || name === 'resample' || name === 'score';
  if (hasPair !== pairJob) return null;
  return {
    name: name as JobName,
    runId,
    step: Number(step),
    ...(hasPair ? { pairIndex: Number(pair), attempt: Number(attempt) } : {}),
    ...(rerun !== undefined ? { round: Number(rerun) } : {}),
  };
}
