/**
 * Every metric differad exports, as data: the registry is built from it
 * (`createMetrics`), the README's metric list is generated from it, and the
 * Grafana dashboard's queries are checked against it. Names follow the
 * Prometheus conventions (https://prometheus.io/docs/practices/naming/): the
 * `differad_` prefix, base units (seconds, bytes) as a suffix, `_total` on
 * counters only, `_ratio` for a share in [0, 1]. Every label is bounded: queue
 * names come from the catalog, error codes are SCREAMING_SNAKE from the error
 * registries (anything else is counted as `OTHER`), servers and runs are the
 * current ones of the process, capped (see `createMetrics`).
 */

/** A Prometheus metric type as prom-client implements it. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One metric: what the exposition's `# HELP` and `# TYPE` lines say and which labels its series have. */
export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  /** Histogram upper bounds, seconds. */
  readonly buckets?: readonly number[];
}

/** Request-scale latencies: a chat completion of G samples, a trainer call (10 ms … 10 min). */
const REQUEST_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;
/** Step-scale durations: a job, a weight sync, a whole step (50 ms … 30 min). */
const STEP_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

/**
 * The states `differad_queue_jobs` reports, as BullMQ names them: every list
 * and set of a queue but `completed` (kept for a day for idempotency, so it
 * grows with the run; `differad_jobs_completed_total` counts completions).
 */
export const QUEUE_JOB_STATES = ['waiting', 'paused', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed'] as const;

/** One of {@link QUEUE_JOB_STATES}. */
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/** The trainer API v1 calls (docs/trainer-api.json), as `differad_trainer_call_duration_seconds{call}` names them. */
export const TRAINER_CALLS = [
  'health',
  'forward_backward',
  'optim_step',
  'checkpoint_save',
  'checkpoint_load',
  'weights_send',
  'weights_manifest',
  'score_tokens',
] as const;

/** One of {@link TRAINER_CALLS}. */
export type TrainerCall = (typeof TRAINER_CALLS)[number];

/** `policy.syncBackend` (docs/architecture.md §6). */
export const SYNC_BACKENDS = ['disk', 'nccl', 'none'] as const;

/** One of {@link SYNC_BACKENDS}. */
export type SyncBackend = (typeof SYNC_BACKENDS)[number];

/** The finish reasons vLLM's OpenAI API reports for a choice; anything else is `other`. */
export const FINISH_REASONS = ['stop', 'length', 'abort', 'other'] as const;

/** Every metric differad exports, by the key its recorder uses. */
export const METRIC_CATALOG = {
  queueJobs: {
    name: 'differad_queue_jobs',
    type: 'gauge',
    help: 'Jobs in a BullMQ queue by state, read with Queue.getJobCounts at scrape time.',
    labels: ['queue', 'state'],
  },
  queueCollectErrors: {
    name: 'differad_queue_collect_errors_total',
    type: 'counter',
    help: 'Scrapes whose Queue.getJobCounts failed or timed out; the queue had no differad_queue_jobs samples then.',
    labels: ['queue'],
  },
  jobsCompleted: {
    name: 'differad_jobs_completed_total',
    type: 'counter',
    help: 'Jobs this process completed, by queue.',
    labels: ['queue'],
  },
  jobsFailed: {
    name: 'differad_jobs_failed_total',
    type: 'counter',
    help: 'Jobs this process failed for good (no attempts left or not retryable), by queue and error code.',
    labels: ['queue', 'code'],
  },
  jobRetries: {
    name: 'differad_job_retries_total',
    type: 'counter',
    help: 'Failed job attempts that BullMQ will retry, by queue and error code.',
    labels: ['queue', 'code'],
  },
  jobDuration: {
    name: 'differad_job_duration_seconds',
    type: 'histogram',
    help: 'Processing time of completed jobs, from start to finish of the successful attempt, by queue.',
    labels: ['queue'],
    buckets: STEP_SECONDS,
  },
  rolloutRequestDuration: {
    name: 'differad_rollout_request_duration_seconds',
    type: 'histogram',
    help: 'Latency of one rollout request (n = G completions) to an inference server, by server.',
    labels: ['server'],
    buckets: REQUEST_SECONDS,
  },
  trainerCallDuration: {
    name: 'differad_trainer_call_duration_seconds',
    type: 'histogram',
    help: 'Latency of trainer API v1 calls, by call.',
    labels: ['call'],
    buckets: REQUEST_SECONDS,
  },
  completionsGenerated: {
    name: 'differad_completions_generated_total',
    type: 'counter',
    help: 'Completions received from the inference servers, by finish reason.',
    labels: ['finish_reason'],
  },
  fleetInFlight: {
    name: 'differad_fleet_in_flight_sequences',
    type: 'gauge',
    help: "Sequences this process's fleet client has in flight on a server.",
    labels: ['server'],
  },
  fleetConcurrencyLimit: {
    name: 'differad_fleet_concurrency_limit_sequences',
    type: 'gauge',
    help: "The fleet client's adaptive concurrency limit of a server, sequences.",
    labels: ['server'],
  },
  fleetServerEjected: {
    name: 'differad_fleet_server_ejected',
    type: 'gauge',
    help: 'Whether the fleet client has ejected a server, after consecutive failures or a reply from weights it lost since its sync (1), or routes to it (0).',
    labels: ['server'],
  },
  fleetLatency: {
    name: 'differad_fleet_latency_ewma_seconds',
    type: 'gauge',
    help: "Exponentially weighted mean latency of a server's successful requests, as the fleet client routes by it.",
    labels: ['server'],
  },
  fleetQueued: {
    name: 'differad_fleet_queued_requests',
    type: 'gauge',
    help: 'Requests waiting in the fleet client for capacity on a live server.',
    labels: [],
  },
  weightSyncDuration: {
    name: 'differad_weight_sync_duration_seconds',
    type: 'histogram',
    help: 'Duration of a weight sync from the trainer to the inference servers, by backend.',
    labels: ['backend'],
    buckets: STEP_SECONDS,
  },
  weightVersion: {
    name: 'differad_weight_version',
    type: 'gauge',
    help: "The run's weight version after its last optimizer step and sync.",
    labels: ['run'],
  },
  stepsCompleted: {
    name: 'differad_steps_completed_total',
    type: 'counter',
    help: 'Training steps this process completed, by run.',
    labels: ['run'],
  },
  stepDuration: {
    name: 'differad_step_duration_seconds',
    type: 'histogram',
    help: 'Wall time of a training step job, from its start to its metrics row.',
    labels: [],
    buckets: STEP_SECONDS,
  },
  runStep: {
    name: 'differad_run_step',
    type: 'gauge',
    help: "The run's last completed step.",
    labels: ['run'],
  },
  runRewardMean: {
    name: 'differad_run_reward_mean',
    type: 'gauge',
    help: 'Mean reward of the last step over its final groups (docs/method.md §5).',
    labels: ['run'],
  },
  runDegenerateRatio: {
    name: 'differad_run_degenerate_ratio',
    type: 'gauge',
    help: 'Share of degenerate groups (localization rewards with no ranking, docs/method.md §5.3) among the final groups of the last step.',
    labels: ['run'],
  },
  runResamples: {
    name: 'differad_run_resamples_total',
    type: 'counter',
    help: 'Groups sampled again because they were degenerate, by run.',
    labels: ['run'],
  },
  runReplacements: {
    name: 'differad_run_replacements_total',
    type: 'counter',
    help: 'Pairs replaced by a freshly drawn pair after the resampling budget, by run.',
    labels: ['run'],
  },
  runLoss: {
    name: 'differad_run_loss',
    type: 'gauge',
    help: "The trainer's loss of the last step, averaged over its micro-batches.",
    labels: ['run'],
  },
  runKl: {
    name: 'differad_run_kl',
    type: 'gauge',
    help: 'Mean k3 KL against the reference policy in the last step, averaged over its micro-batches (docs/method.md §6.5).',
    labels: ['run'],
  },
  runClipRatio: {
    name: 'differad_run_clip_ratio',
    type: 'gauge',
    help: 'Share of tokens whose clipped branch was active in the last step, averaged over its micro-batches (docs/method.md §6.5).',
    labels: ['run'],
  },
  runGradNorm: {
    name: 'differad_run_grad_norm',
    type: 'gauge',
    help: 'Gradient norm of the last optimizer step, before clipping.',
    labels: ['run'],
  },
  runHeldOutAccuracy: {
    name: 'differad_run_heldout_accuracy_ratio',
    type: 'gauge',
    help: 'Acc at the run threshold of the last held-out evaluation (docs/method.md §8.2).',
    labels: ['run'],
  },
  runHeldOutMiou: {
    name: 'differad_run_heldout_miou_ratio',
    type: 'gauge',
    help: 'Mean IoU of the last held-out evaluation (docs/method.md §8.2).',
    labels: ['run'],
  },
} as const satisfies Record<string, MetricSpec>;

/** The key of a metric in {@link METRIC_CATALOG}. */
export type MetricKey = keyof typeof METRIC_CATALOG;
