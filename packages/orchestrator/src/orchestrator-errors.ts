import type { ErrorSpec } from '@differad/core';

const fails = (summary: string) => ({ status: null, retryable: false, summary }) as const;
/** A job failure BullMQ retries with the queue's backoff: the state it waits for can still arrive. */
const retried = (summary: string) => ({ status: null, retryable: true, summary }) as const;

/**
 * The error codes @differad/orchestrator throws: the run (`TRAIN_*`), its
 * workers (`ORCHESTRATOR_*`, `WORKER_*`) and weight sync (`SYNC_*`).
 */
export const ORCHESTRATOR_ERRORS = {
  TRAIN_CONFIG_MISSING: fails('A new training run was started without a config.'),
  TRAIN_RUN_UNKNOWN: fails('--resume names a run with no run folder config, or that is not in the run store.'),
  TRAIN_RUN_EXISTS: fails('A new run takes the id of a run that exists already; pick another run.id or resume it.'),
  TRAIN_RUN_ACTIVE: fails('Another live process is training the run (its heartbeat is fresh); stop that one first.'),
  TRAIN_STEPS_INVALID: {
    status: null,
    retryable: false,
    exit: 1,
    summary: '--steps given with --resume cannot be honoured (the message says why, e.g. fewer than the steps completed).',
  },
  TRAIN_ENDPOINT_UNREACHABLE: fails(
    'Inference servers of policy.endpoints are not usable at the start of a run; `details.problems` lists them.',
  ),
  TRAIN_TRAINER_UNREACHABLE: fails('The trainer did not answer its health check, at the start of a run or before a step.'),
  TRAIN_TRAINER_FOREIGN_RUN: fails('The trainer is training another run; a run never takes over a trainer.'),
  TRAIN_TRAINER_STATE_LOST: fails('The trainer lost its place and no checkpoint can put it back, or restoring it kept failing.'),
  TRAIN_STEP_FAILED: fails('A step job (or one of its child jobs) failed for good; the message quotes the job and its reason.'),
  TRAIN_REDIS_LOST: retried('Redis stopped answering during a run; the run stopped and is resumable once Redis is back.'),
  TRAIN_REDIS_DATA_LOST: fails(
    "Redis came back without the run's data (no persistence, or flushed); the run cannot go on from this Redis.",
  ),
  ORCHESTRATOR_RUN_UNKNOWN: fails('A job names a run that is not in Redis.'),
  ORCHESTRATOR_RUN_UNRESOLVED: fails('A run was stored without its server URLs.'),
  ORCHESTRATOR_PAIR_UNKNOWN: fails('A job names a pair that is not in the training manifest.'),
  ORCHESTRATOR_SCORE_INVALID: fails('A score job of a run does not carry a Redis key for its completions.'),
  ORCHESTRATOR_GROUP_MISSING: retried('A sampled or final group a job needs is not in Redis yet.'),
  ORCHESTRATOR_NO_POOL_SERVER: retried(
    'No inference server of the run holds the weight version a rollout needs: every one is out of the rollout pool.',
  ),
  ORCHESTRATOR_NO_LOGPROBS: fails('A server returned no token ids or log-probs for a completion, so it cannot be trained on.'),
  ORCHESTRATOR_NO_STEP: fails('A job that adds a child job has no parent step job.'),
  ORCHESTRATOR_IMAGE_CHANGED: fails(
    "A pair's image file changed between its rollout and the step, so its completions cannot be trained against it; a resumed run samples the step again.",
  ),
  ORCHESTRATOR_STALE_SERVER: fails(
    'Overlapped mode: a group came back more than grpo.maxStaleness weight versions old each time it was sampled again; a server in the rollout pool keeps serving old weights.',
  ),
  ORCHESTRATOR_STALE_ROUND: fails(
    'Overlapped mode: a step job was queued ahead of the trainer for a round the run has since left; nobody waits for it.',
  ),
  ORCHESTRATOR_TRAINER_STATE: fails(
    'The trainer is not where the step job expects it; the coordinator puts it back on the last saved checkpoint.',
  ),
  SYNC_FAILED: retried('A weight sync failed on the trainer or on some servers; the step job runs the sync again.'),
  SYNC_TOO_FEW_SERVERS: fails(
    'Fewer servers than policy.minServers are left in the rollout pool; the run is resumable once they are back.',
  ),
  WORKER_REDIS_MISSING: fails('`differad worker` was started without DIFFERAD_REDIS_URL (it serves a shared Redis).'),
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly orchestrator: typeof ORCHESTRATOR_ERRORS;
  }
}
