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

  it('read back edge values bit for bit: -0, subnormal, the largest floats, the largest uint32 token id', () => {
    const logprobs = [-0, 0, Number.MIN_VALUE, -Number.MIN_VALUE, 1e-310, Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON, -1e300];
    const edge = slot(logprobs);
    const sampled = { ...edge.sampled, promptTokenIds: [0, 1, 2 ** 31, 4294967295] };
    sampled.completions[0] = { ...sampled.completions[0]!, tokenIds: [4294967295, 0, 2 ** 32 - 2, 1, 2 ** 16, 2 ** 24, 7, 8, 9] };
    const back = parseStoredSlot(toStoredSlot({ ...edge, sampled }));
    expect(back.sampled.promptTokenIds).toEqual([0, 1, 2 ** 31, 4294967295]);
    expect(back.sampled.completions[0]!.tokenIds).toEqual([4294967295, 0, 2 ** 32 - 2, 1, 2 ** 16, 2 ** 24, 7, 8, 9]);
    const floats = back.sampled.completions[0]!.logprobs;
    expect(floats).toHaveLength(logprobs.length);
    logprobs.forEach((x, i) => expect(Object.is(floats[i], x)).toBe(true));
  });

  it('keep the stored form: uint32 and float64 little-endian, base64', () => {
    const stored = slot([-0, Number.MIN_VALUE, -Number.MAX_VALUE, 1e-310]);
    const sampled = { ...stored.sampled, promptTokenIds: [0, 1, 2 ** 31, 4294967295] };
    const text = toStoredSlot({ ...stored, sampled });
    const raw = JSON.parse(text) as {
      packed: number;
      sampled: { promptTokenIds: string; completions: { tokenIds: string; logprobs: string }[] };
    };
    expect(raw.packed).toBe(1);
    expect(raw.sampled.promptTokenIds).toBe('AAAAAAEAAAAAAACA/////w==');
    expect(raw.sampled.completions[0]).toMatchObject({
      tokenIds: 'AQAAAAIAAABbUAIA',
      logprobs: 'AAAAAAAAAIABAAAAAAAAAP///////+//K+Zwi2gSAAA=',
    });
    expect(raw.sampled.completions[1]).toMatchObject({ tokenIds: '', logprobs: '' });
  });

  it('read back long completions and the short ones after them', () => {
    const long = Array.from({ length: 20_000 }, (_, i) => -i / 7);
    const longSlot = slot(long);
    longSlot.sampled.completions[0] = { ...longSlot.sampled.completions[0]!, tokenIds: long.map((_, i) => i * 65_537) };
    expect(parseStoredSlot(toStoredSlot(longSlot))).toEqual(longSlot);
    expect(parseStoredSlot(toStoredSlot(slot([-0.25, -3])))).toEqual(slot([-0.25, -3]));
  });
});
