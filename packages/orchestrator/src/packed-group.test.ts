import type { ScoredGroup } from '@differad/core';
import { describe, expect, it } from 'vitest';
import type { SlotResult } from './group-store.js';
import { parseStoredSlot, toStoredSlot } from './packed-group.js';

const slot = (logprobs: number[]): SlotResult => ({
  pairId: 'p-1',
  sampledAttempt: 1,
  sampled: {
    pairId: 'p-1',
    attempt: 1,
    seed: 7,
    weightVersion: 3,
    promptTokenIds: [151644, 0, 4294967295],
    system: 's',
    instruction: 'i',
    rolloutMs: 1.5,
    completions: [
      { text: 'a', tokenIds: [1, 2, 151643], logprobs, finishReason: 'stop', server: 'http://a' },
      { text: '', tokenIds: [], logprobs: [], finishReason: 'length', server: 'http://b' },
    ],
  },
  scored: { rewards: [1, 0] } as unknown as ScoredGroup,
  final: { advantages: [0.5, -0.5], weight: 1 } as SlotResult['final'],
  resamples: 1,
  replacements: 0,
  scoreMs: 0.25,
});

describe('stored final groups', () => {
  it('read back exactly what was stored, log-probs bit for bit', () => {
    const logprobs = [-0.1, -1e-300, -0, -123.45678901234567, Number.MIN_VALUE * -1, -Math.PI];
    const back = parseStoredSlot(toStoredSlot(slot(logprobs)));
    expect(back).toEqual(slot(logprobs));
    expect(Object.is(back.sampled.completions[0]!.logprobs[2], -0)).toBe(true);
    expect(JSON.stringify(back)).toBe(JSON.stringify(slot(logprobs)));
  });

  it('are smaller than their plain JSON', () => {
    const logprobs = Array.from({ length: 3 }, (_, i) => -Math.random() / (i + 1));
    expect(toStoredSlot(slot(logprobs)).length).toBeLessThan(JSON.stringify(slot(logprobs)).length);
  });

  it('still read in the plain JSON an earlier release wrote', () => {
    expect(parseStoredSlot(JSON.stringify(slot([-0.5, -1, -2])))).toEqual(slot([-0.5, -1, -2]));
  });
});
