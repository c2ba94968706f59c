import type { TrainingCounters } from '../training/training-state.js';

/** What /metrics reports besides the training counters. */
export interface MetricsExtras {
  readonly weightVersion: number;
  readonly checkpointsSaved: number;
  readonly weightsSent: number;
  readonly requestErrors: number;
}

const line = (name: string, help: string, type: 'counter' | 'gauge', samples: readonly [string, number | null][]): string =>
  [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...samples.filter(([, v]) => v !== null).map(([labels, v]) => `${name}${labels} ${v}`),
  ].join('\n');

/**
 * The trainer's Prometheus text exposition (format 0.0.4). The names are part
 * of the trainer contract: every backend publishes
 * `differad_trainer_optim_steps_total`, `differad_trainer_micro_batches_total{duplicate}`
 * and `differad_trainer_weight_version`.
 */
export function formatTrainerMetrics(c: Readonly<TrainingCounters>, extras: MetricsExtras): string {
  return (
    [
      line('differad_trainer_optim_steps_total', 'Optimizer steps applied.', 'counter', [['', c.optimSteps]]),
      line('differad_trainer_duplicate_optim_steps_total', 'optim_step calls answered as duplicates.', 'counter', [
        ['', c.duplicateOptimSteps],
      ]),
      line('differad_trainer_micro_batches_total', 'forward_backward calls, by whether they were duplicates.', 'counter', [
        ['{duplicate="false"}', c.microBatches],
        ['{duplicate="true"}', c.duplicateMicroBatches],
      ]),
      line('differad_trainer_sequences_total', 'Completions that entered the loss.', 'counter', [['', c.sequences]]),
      line('differad_trainer_masked_total', 'Completions left out of the loss, by reason.', 'counter', [
        ['{reason="truncated"}', c.maskedTruncated],
        ['{reason="unscorable"}', c.maskedUnscorable],
      ]),
      line('differad_trainer_weight_version', 'Current weight version.', 'gauge', [['', extras.weightVersion]]),
      line('differad_trainer_last_loss', 'Loss of the last applied micro-batch.', 'gauge', [['', c.lastLoss]]),
      line('differad_trainer_last_clip_fraction', 'Clip fraction of the last applied micro-batch.', 'gauge', [['', c.lastClipFraction]]),
      line('differad_trainer_last_grad_norm', 'Gradient norm of the last optimizer step.', 'gauge', [['', c.lastGradNorm]]),
      line('differad_trainer_checkpoints_saved_total', 'Checkpoints written.', 'counter', [['', extras.checkpointsSaved]]),
      line('differad_trainer_weights_sent_total', 'Weight sends completed.', 'counter', [['', extras.weightsSent]]),
      line('differad_trainer_request_errors_total', 'Requests answered with an error status.', 'counter', [['', extras.requestErrors]]),
    ].join('\n') + '\n'
  );
}
