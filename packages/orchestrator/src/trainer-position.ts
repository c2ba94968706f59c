import type { TrainerPosition } from '@differad/core';
import type { HealthResponse } from '@differad/trainer-client';

/** The trainer's position from its `GET /v1/health` (trainer API v1), for core's trainer-sync decisions. */
export function toTrainerPosition(health: HealthResponse): TrainerPosition {
  return { run: health.run, step: health.step, weightVersion: health.weight_version, pendingStep: health.pending?.step ?? null };
}
