import { createMetrics } from '@differad/metrics';
import type { TrainerClient } from '@differad/trainer-client';
import { describe, expect, it } from 'vitest';
import { withTrainerTiming } from './timed-trainer.js';

describe('withTrainerTiming', () => {
  it('times every call by its trainer API name, failed ones too, and passes replies and errors through', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const trainer = {
      url: 'http://127.0.0.1:8200',
      health: async () => ({ status: 'ok' }),
      optimStep: async () => {
        throw new Error('TRAINER_UNREACHABLE');
      },
    } as unknown as TrainerClient;
    const timed = withTrainerTiming(trainer, metrics);
    expect(timed.url).toBe(trainer.url);
    await expect(timed.health()).resolves.toEqual({ status: 'ok' });
    await expect(timed.optimStep({ run: 'r', step: 0 } as never)).rejects.toThrow('TRAINER_UNREACHABLE');
    const text = await metrics.expose();
    expect(text).toMatch(/^differad_trainer_call_duration_seconds_count\{call="health"\} 1$/m);
    expect(text).toMatch(/^differad_trainer_call_duration_seconds_count\{call="optim_step"\} 1$/m);
  });
});
