import { computeIou, parseAnswer } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { createPngDataUrl } from '../images/png-data-url.js';
import { createAnswerPolicy, createBoxLookup, createChoiceRng, type AnswerContext } from './answer-policy.js';

const target = createPngDataUrl({ width: 8, height: 8, color: [1, 1, 1], patch: [1, 1, 3, 3] });
const normal = createPngDataUrl({ width: 8, height: 8, color: [1, 1, 1] });
const lookup = createBoxLookup([
  { targetImage: target, box: [100, 200, 300, 400] },
  { targetImage: normal, box: null },
]);
const ctx = (t: string): AnswerContext => ({ referenceImage: normal, targetImage: t, prompt: 'p' });

describe('answer policies', () => {
  it('exact answers the ground truth found by the target image hash, in the differad format', () => {
    const policy = createAnswerPolicy({ policy: 'exact', lookup });
    const answer = parseAnswer(policy(ctx(target), createChoiceRng(1, 0)), 'differad');
    expect(answer).toMatchObject({ kind: 'box', box: [100, 200, 300, 400] });
    expect(parseAnswer(policy(ctx(normal), createChoiceRng(1, 0)), 'differad')).toMatchObject({ kind: 'empty' });
  });

  it('noisy jitters the truth, the same for the same seed and choice', () => {
    const policy = createAnswerPolicy({ policy: 'noisy', lookup, noise: 20 });
    const a = policy(ctx(target), createChoiceRng(7, 3));
    expect(policy(ctx(target), createChoiceRng(7, 3))).toBe(a);
    expect(policy(ctx(target), createChoiceRng(7, 4))).not.toBe(a);
    const parsed = parseAnswer(a, 'differad');
    expect(parsed.kind).toBe('box');
    if (parsed.kind === 'box') expect(computeIou(parsed.box, [100, 200, 300, 400])).toBeGreaterThan(0.3);
  });

  it('constant repeats its text and garbage has no answer block', () => {
    expect(createAnswerPolicy({ policy: 'constant', constantText: 'hi' })(ctx(target), createChoiceRng(1, 0))).toBe('hi');
    const garbage = createAnswerPolicy({ policy: 'garbage' })(ctx(target), createChoiceRng(1, 0));
    expect(parseAnswer(garbage, 'differad').kind).toBe('invalid');
  });
});
