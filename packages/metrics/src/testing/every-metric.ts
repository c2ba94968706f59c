import type { CountableQueue } from '../collect/queue-counts.js';
import type { FleetStatsSource } from '../collect/fleet-stats.js';
import type { DifferadMetrics } from '../create-metrics.js';

/** A queue whose counts are fixed: 3 waiting, 1 active, 2 delayed, 1 failed, the rest 0. */
export function fixedQueue(
  name: string,
  counts: Readonly<Record<string, number>> = { waiting: 3, active: 1, delayed: 2, failed: 1 },
): CountableQueue {
  return { name, getJobCounts: async (...types) => Object.fromEntries(types.map((t) => [t, counts[t] ?? 0])) };
}

/** A fleet client of two servers, the second ejected. */
export function fixedFleet(): FleetStatsSource {
  return {
    stats: () => ({
      queued: 2,
      servers: [
        { url: 'http://vllm-0:8000', inFlight: 8, concurrencyLimit: 16, ejected: false, latencyEwmaMs: 1500 },
        { url: 'http://vllm-1:8000', inFlight: 0, concurrencyLimit: 4, ejected: true, latencyEwmaMs: null },
      ],
    }),
  };
}

/** Records something into every metric of the catalog, as a worker of run `demo` would over a step. */
export function populateEveryMetric(metrics: DifferadMetrics): void {
  metrics.collectQueues([fixedQueue('rollout'), fixedQueue('step', { 'waiting-children': 1 })]);
  metrics.collectQueues([{ name: 'score', getJobCounts: () => Promise.reject(new Error('Connection is closed.')) }]);
  metrics.collectFleet(fixedFleet());
  metrics.recordJobCompleted('rollout', 1.25);
  metrics.recordJobFailed('rollout', 'INFERENCE_TIMEOUT', false);
  metrics.recordJobFailed('step', 'TRAINER_STEP_CONFLICT', true);
  metrics.observeRollout(2.5, 'http://vllm-0:8000');
  metrics.observeTrainerCall('forward_backward', 0.8);
  metrics.recordCompletions(['stop', 'stop', 'length', null]);
  metrics.recordWeightSync({ run: 'demo', backend: 'disk', seconds: 4.2, version: 3 });
  metrics.recordStep('demo', {
    step: 2,
    reward_mean: 0.625,
    frac_degenerate: 0.25,
    resamples: 3,
    replacements: 1,
    loss: -0.012,
    clip_fraction: 0.05,
    kl: 0.001,
    grad_norm: 0.9,
    weight_version: 3,
    eval_acc: 0.75,
    eval_miou: 0.41,
    total_ms: 12_500,
  });
}
