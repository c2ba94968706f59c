import type { FinalGroup, ScoredGroup } from '@differad/core';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { parseStoredSlot, toStoredSlot } from './packed-group.js';

/** What a rollout stored for one sampling of one slot of a step. */
export const SampledGroupSchema = z.object({
  pairId: z.string(),
  attempt: z.int().min(0),
  seed: z.int(),
  /** The oldest weight version the group was sampled with: the server's report, else the version the rollout asked the pool for. */
  weightVersion: z.int().min(0).nullable(),
  /** Every version, when an in-flight weight update fell inside the request (docs/architecture.md §6.2). */
  weightVersions: z.array(z.int().min(0)).optional(),
  promptTokenIds: z.array(z.int()).nullable(),
  /** sha256 of the reference and target frames the server was sent (the trainer's image hashes); absent in groups stored before they were recorded. */
  images: z.array(z.string()).length(2).optional(),
  system: z.string(),
  instruction: z.string(),
  completions: z.array(
    z.object({ text: z.string(), tokenIds: z.array(z.int()), logprobs: z.array(z.number()), finishReason: z.string(), server: z.string() }),
  ),
  rolloutMs: z.number(),
});
export type SampledGroup = z.infer<typeof SampledGroupSchema>;

/** The final state of a slot once scoring decided to keep it. */
export interface SlotResult {
  readonly pairId: string;
  readonly sampledAttempt: number;
  readonly sampled: SampledGroup;
  readonly scored: ScoredGroup;
  readonly final: FinalGroup;
  readonly resamples: number;
  readonly replacements: number;
  readonly scoreMs: number;
}

const TTL_SECONDS = 7 * 24 * 3600;

function key(runId: string, step: number, slot: number, suffix: string): string {
  return `differad:run:${runId}:step:${step}:slot:${slot}:${suffix}`;
}

/** A step's regenerations: slot → how many times it was sampled again, and `<slot>:next` → the last one started (a Regeneration). */
function regeneratedKey(runId: string, step: number): string {
  return `differad:run:${runId}:step:${step}:regenerated`;
}

function regenerationField(slot: number): string {
  return `${slot}:next`;
}

/** The sampling a regeneration of a slot starts: its resample job's pair, attempt and weight version (the seed follows from the attempt). */
export const RegenerationSchema = z.object({ pairId: z.string(), attempt: z.int().min(1), weightVersion: z.int().min(0) });
export type Regeneration = z.infer<typeof RegenerationSchema>;

/** Redis storage of a run's sampled and final groups, keyed by (run, step, slot, attempt). */
export function createGroupStore(redis: Redis) {
  return {
    /** A sampling stored for a score job (rollouts of earlier releases; rollouts now score their group themselves). */
    async loadSampling(k: string): Promise<SampledGroup | null> {
      const text = await redis.get(k);
      return text === null ? null : SampledGroupSchema.parse(JSON.parse(text));
    },
    /**
     * Records the score of `attempt` of the slot and reads back what the
     * decision needs: the scores of the slot's samplings so far (attempt →
     * score) and its replacements (attempt → pair id). Sent together, so
     * one connection runs them in order in one round trip (ioredis's
     * pipeline() object costs more CPU to build than the four commands); the
     * write is idempotent (the attempt's field).
     */
    async recordScore(
      runId: string,
      step: number,
      slot: number,
      attempt: number,
      scored: ScoredGroup,
    ): Promise<{ scores: Map<number, ScoredGroup>; replacements: Map<number, string> }> {
      const scoresKey = key(runId, step, slot, 'scores');
      const [, , scores, marks] = await Promise.all([
        redis.hset(scoresKey, String(attempt), JSON.stringify(scored)),
        redis.expire(scoresKey, TTL_SECONDS),
        redis.hgetall(scoresKey),
        redis.hgetall(key(runId, step, slot, 'replacements')),
      ]);
      return {
        scores: new Map(Object.entries(scores).map(([a, v]) => [Number(a), JSON.parse(v) as ScoredGroup])),
        replacements: new Map(Object.entries(marks).map(([a, v]) => [Number(a), v])),
      };
    },
    async loadScores(runId: string, step: number, slot: number): Promise<Map<number, ScoredGroup>> {
      const all = await redis.hgetall(key(runId, step, slot, 'scores'));
      return new Map(Object.entries(all).map(([a, v]) => [Number(a), JSON.parse(v) as ScoredGroup]));
    },
    /** Records that `attempt` of the slot starts a replacement pair. */
    async markReplacement(runId: string, step: number, slot: number, attempt: number, pairId: string): Promise<void> {
      await redis.hset(key(runId, step, slot, 'replacements'), String(attempt), pairId);
      await redis.expire(key(runId, step, slot, 'replacements'), TTL_SECONDS);
    },
    /** Attempt → pair id of every replacement of the slot. */
    async loadReplacements(runId: string, step: number, slot: number): Promise<Map<number, string>> {
      const all = await redis.hgetall(key(runId, step, slot, 'replacements'));
      return new Map(Object.entries(all).map(([a, v]) => [Number(a), v]));
    },
    /** The slot's final group; token ids and log-probs packed (packed-group.ts). */
    async saveResult(runId: string, step: number, slot: number, result: SlotResult): Promise<void> {
      await redis.set(key(runId, step, slot, 'final'), toStoredSlot(result), 'EX', TTL_SECONDS);
    },
    async loadResult(runId: string, step: number, slot: number): Promise<SlotResult | null> {
      const text = await redis.get(key(runId, step, slot, 'final'));
      return text === null ? null : parseStoredSlot(text);
    },
    /**
     * Overlapped mode: forgets the slot's decisions before it is sampled
     * again at the current weights (too stale to train on), counts the
     * regeneration for the step's row, and records the sampling it starts
     * (`regeneration`), so a step job that died before adding that sampling
     * can add it on its retry (loadRegenerations). One transaction:
     * a slot never loses its final group without the record.
     */
    async startRegeneration(runId: string, step: number, slot: number, regeneration: Regeneration): Promise<void> {
      const counts = regeneratedKey(runId, step);
      const replies = await redis
        .multi()
        .del(...['scores', 'replacements', 'final'].map((s) => key(runId, step, slot, s)))
        .hincrby(counts, String(slot), 1)
        .hset(counts, regenerationField(slot), JSON.stringify(regeneration))
        .expire(counts, TTL_SECONDS)
        .exec();
      // No WATCH, so never aborted (null); a command's error is thrown, the transaction having run the others.
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    },
    /** Groups of the step regenerated so far (a slot regenerated twice counts twice). */
    async countRegenerated(runId: string, step: number): Promise<number> {
      const all = await redis.hgetall(regeneratedKey(runId, step));
      return Object.entries(all).reduce((n, [field, v]) => (/^\d+$/.test(field) ? n + Number(v) : n), 0);
    },
  };
}
export type GroupStore = ReturnType<typeof createGroupStore>;

/**
 * Forgets what an earlier run of a step decided per slot (scores,
 * replacements, final group) before the step runs again: a rerun must count
 * its own resamples, never the old ones. Samplings are overwritten by the
 * rerun's own.
 */
export async function clearStepGroups(redis: Redis, runId: string, step: number, slots: number): Promise<void> {
  const keys = Array.from({ length: slots }, (_, k) => ['scores', 'replacements', 'final'].map((s) => key(runId, step, k, s))).flat();
  if (keys.length > 0) await redis.del(...keys, regeneratedKey(runId, step));
}

/**
 * Overlapped mode: the last regeneration started for each of `slots` that
 * had one (slot → regeneration), as `startRegeneration` recorded it.
 */
export async function loadRegenerations(
  redis: Redis,
  runId: string,
  step: number,
  slots: readonly number[],
): Promise<Map<number, Regeneration>> {
  const found = new Map<number, Regeneration>();
  if (slots.length === 0) return found;
  const texts = await redis.hmget(regeneratedKey(runId, step), ...slots.map(regenerationField));
  texts.forEach((text, i) => {
    if (text !== null) found.set(slots[i]!, RegenerationSchema.parse(JSON.parse(text)));
  });
  return found;
}

/** Overlapped mode: how many times each of `slots` was sampled again so far in this run of the step (0 for none). */
export async function loadRegenerationCounts(redis: Redis, runId: string, step: number, slots: readonly number[]): Promise<number[]> {
  if (slots.length === 0) return [];
  const counts = await redis.hmget(regeneratedKey(runId, step), ...slots.map(String));
  return counts.map((n) => Number(n ?? 0));
}
