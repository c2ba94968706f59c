import type { DifferadMetrics, TrainerCall } from '@differad/metrics';
import type { TrainerClient } from '@differad/trainer-client';

/**
 * `trainer` with every trainer API v1 call timed into
 * `differad_trainer_call_duration_seconds{call}`: from the request to the
 * validated reply or the error (a failed call's time counts too: a trainer
 * that times out shows in the slowest bucket, not nowhere).
 */
export function withTrainerTiming(trainer: TrainerClient, metrics: Pick<DifferadMetrics, 'observeTrainerCall'>): TrainerClient {
  const time = async <R>(call: TrainerCall, send: () => Promise<R>): Promise<R> => {
    const started = performance.now();
    try {
      return await send();
    } finally {
      metrics.observeTrainerCall(call, (performance.now() - started) / 1000);
    }
  };
  return {
    ...trainer,
    health: (o) => time('health', () => trainer.health(o)),
    forwardBackward: (r, o) => time('forward_backward', () => trainer.forwardBackward(r, o)),
    optimStep: (r, o) => time('optim_step', () => trainer.optimStep(r, o)),
    saveCheckpoint: (r, o) => time('checkpoint_save', () => trainer.saveCheckpoint(r, o)),
    loadCheckpoint: (r, o) => time('checkpoint_load', () => trainer.loadCheckpoint(r, o)),
    sendWeights: (r, o) => time('weights_send', () => trainer.sendWeights(r, o)),
    weightsManifest: (r, o) => time('weights_manifest', () => trainer.weightsManifest(r, o)),
    scoreTokens: (r, o) => time('score_tokens', () => trainer.scoreTokens(r, o)),
  };
}
