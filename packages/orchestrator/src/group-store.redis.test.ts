import type { ScoredGroup } from '@differad/core';
import { type RedisFixture, startRedisFixture } from '@differad/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearStepGroups, createGroupStore, loadRegenerations } from './group-store.js';

let redis: RedisFixture;

beforeAll(async () => {
  redis = await startRedisFixture();
});
afterAll(() => redis.stop());

const SCORED = { rewards: [1, 0], advantages: [1, -1] } as unknown as ScoredGroup;

describe('the group store’s regenerations (overlapped mode)', () => {
  it('forget the slot’s decisions, count each regeneration and keep the last one started for a retry to add again', async () => {
    const groups = createGroupStore(redis.producer);
    const [run, step] = ['regen-store', 4];
    await groups.recordScore(run, step, 1, 0, SCORED);
    await groups.markReplacement(run, step, 1, 0, 'pair-b');
    await groups.recordScore(run, step, 2, 0, SCORED);

    await groups.startRegeneration(run, step, 1, { pairId: 'pair-b', attempt: 1, weightVersion: 3 });
    expect((await groups.loadScores(run, step, 1)).size).toBe(0);
    expect((await groups.loadReplacements(run, step, 1)).size).toBe(0);
    expect(await groups.loadResult(run, step, 1)).toBeNull();
    expect((await groups.loadScores(run, step, 2)).size).toBe(1);
    expect(await groups.countRegenerated(run, step)).toBe(1);
    expect(await loadRegenerations(redis.producer, run, step, [0, 1, 2])).toEqual(
      new Map([[1, { pairId: 'pair-b', attempt: 1, weightVersion: 3 }]]),
    );

    // The same slot too old again, and another one: each regeneration counts, the slot's record is its latest.
    await groups.startRegeneration(run, step, 1, { pairId: 'pair-b', attempt: 2, weightVersion: 5 });
    await groups.startRegeneration(run, step, 2, { pairId: 'pair-c', attempt: 1, weightVersion: 5 });
    expect(await groups.countRegenerated(run, step)).toBe(3);
    expect(await loadRegenerations(redis.producer, run, step, [1, 2])).toEqual(
      new Map([
        [1, { pairId: 'pair-b', attempt: 2, weightVersion: 5 }],
        [2, { pairId: 'pair-c', attempt: 1, weightVersion: 5 }],
      ]),
    );
    expect(await groups.countRegenerated(run, step + 1)).toBe(0);

    // A rerun of the step starts from nothing: no count, nothing to add again.
    await clearStepGroups(redis.producer, run, step, 3);
    expect(await groups.countRegenerated(run, step)).toBe(0);
    expect((await loadRegenerations(redis.producer, run, step, [0, 1, 2])).size).toBe(0);
  });
});
