import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Box, computeIou } from '../boxes/box.js';
import type { ParsedAnswer } from '../parse/parse-answer.js';
import { computeFormatReward } from './format-reward.js';
import { computeBoxLocReward, computeConsistency, computeLocReward, computeTotalReward } from './loc-reward.js';
import { DEFAULT_REWARD_OPTIONS, LOC_REWARD_VARIANTS, type RewardOptions } from './reward-options.js';

const opts = (over: Partial<RewardOptions> = {}): RewardOptions => ({ ...DEFAULT_REWARD_OPTIONS, ...over });

describe('computeFormatReward (docs/method.md §4)', () => {
  const cases: Array<[string, string, 0 | 1]> = [
    ['the canonical form', '<think>x</think><answer>(1,2),(3,4)</answer>', 1],
    ['whitespace inside the box', '<think>x</think><answer> ( 1 , 2 ) , ( 3 , 4 ) </answer>', 1],
    ['whitespace between </think> and <answer>', '<think>x</think>\n \t<answer>(1,2),(3,4)</answer>', 1],
    ['the bracket form', '<think>x</think><answer>[1,2,3,4]</answer>', 1],
    ['the bracket form with whitespace', '<think>x</think><answer>[ 1, 2 ,3 , 4 ]</answer>', 1],
    ['the empty box', '<think>normal</think><answer>(0,0),(0,0)</answer>', 1],
    ['trailing text after </answer>', '<think>x</think><answer>(1,2),(3,4)</answer> and more', 1],
    ['text before <think>', 'Sure! <think>x</think><answer>(1,2),(3,4)</answer>', 1],
    ['a multi-line think block', '<think>line 1\nline 2 (5,5),(6,6)</think><answer>(1,2),(3,4)</answer>', 1],
    ['a think block containing </think>', '<think>a</think> b </think><answer>(1,2),(3,4)</answer>', 1],
    ['text between </think> and <answer>', '<think>x</think> so <answer>(1,2),(3,4)</answer>', 0],
    ['a decimal box', '<think>x</think><answer>(1.5,2),(3,4)</answer>', 0],
    ['a nested [[…]] box', '<think>x</think><answer>[[1,2,3,4]]</answer>', 0],
    ['two boxes in the answer', '<think>x</think><answer>(1,2),(3,4),(5,6),(7,8)</answer>', 0],
    ['two boxes separated by space', '<think>x</think><answer>[1,2,3,4] [5,6,7,8]</answer>', 0],
    ['text inside the answer', '<think>x</think><answer>box (1,2),(3,4)</answer>', 0],
    ['a missing think block', '<answer>(1,2),(3,4)</answer>', 0],
    ['an unclosed think block', '<think>x<answer>(1,2),(3,4)</answer>', 0],
    ['a missing </answer>', '<think>x</think><answer>(1,2),(3,4)', 0],
    ['a negative coordinate', '<think>x</think><answer>(-1,2),(3,4)</answer>', 0],
    ['a three-number bracket', '<think>x</think><answer>[1,2,3]</answer>', 0],
    ['empty text', '', 0],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    expect(computeFormatReward(text)).toBe(expected);
  });
});

describe('computeConsistency and the reference values of docs/method.md §4', () => {
  const gt: Box = [100, 100, 200, 200];

  it('pred (150,150),(250,250)', () => {
    const c = computeConsistency([150, 150, 250, 250], gt);
    expect(c.iou).toBeCloseTo(0.142857, 6);
    expect(c.sCenter).toBeCloseTo(0.5, 6);
    expect(c.sScale).toBeCloseTo(1, 6);
    expect(c.sCons).toBeCloseTo(0.7, 6);
    expect(computeBoxLocReward([150, 150, 250, 250], gt)).toBeCloseTo(0.322857, 6);
    expect(computeBoxLocReward([150, 150, 250, 250], gt, opts({ variant: 'dclr-released' }))).toBeCloseTo(0.742857, 6);
    expect(computeBoxLocReward([150, 150, 250, 250], gt, opts({ variant: 'iou' }))).toBeCloseTo(0.142857, 6);
  });

  it('pred (300,300),(400,400)', () => {
    const c = computeConsistency([300, 300, 400, 400], gt);
    expect(c.iou).toBe(0);
    expect(c.sCenter).toBeCloseTo(0, 6);
    expect(c.sCons).toBeCloseTo(0.4, 6);
    expect(computeBoxLocReward([300, 300, 400, 400], gt)).toBeCloseTo(0.12, 6);
    expect(computeBoxLocReward([300, 300, 400, 400], gt, opts({ variant: 'dclr-released' }))).toBeCloseTo(0.4, 6);
    expect(computeBoxLocReward([300, 300, 400, 400], gt, opts({ variant: 'iou' }))).toBe(0);
  });

  it('s_scale penalises an area mismatch relative to the GT area', () => {
    // Pred area 5000 vs GT 10000: |Δ|/A(G) = 0.5. Centre shifted by 25 over diag 141.42.
    const c = computeConsistency([100, 100, 150, 200], gt);
    expect(c.sScale).toBeCloseTo(0.5, 6);
    expect(c.sCenter).toBeCloseTo(1 - 25 / Math.hypot(100, 100), 6);
    expect(c.sCons).toBeCloseTo(0.6 * c.sCenter + 0.4 * c.sScale, 12);
    expect(c.sCons).toBeCloseTo(0.6 * (1 - 25 / Math.hypot(100, 100)) + 0.2, 6);
  });

  it('uses α from the options', () => {
    const c = computeConsistency([150, 150, 250, 250], gt, { alpha: 1, epsilon: 1e-6 });
    expect(c.sCons).toBeCloseTo(0.5, 6);
  });

  it('above τ adds the bounded adjustment δ = min(1−IoU, κ·max(0, S−IoU))', () => {
    // pred shifted by (10,10): IoU 8100/11900, s_center 0.9, s_scale 1, S 0.94.
    const pred: Box = [110, 110, 210, 210];
    const iou = 8100 / 11900;
    expect(computeBoxLocReward(pred, gt)).toBeCloseTo(iou + 0.05 * (0.94 - iou), 6);
    // A large κ is capped at 1 − IoU.
    expect(computeBoxLocReward(pred, gt, opts({ kappa: 10 }))).toBeCloseTo(1, 12);
    expect(computeBoxLocReward(pred, gt, opts({ kappa: 10 }))).toBeLessThanOrEqual(1);
    // A perfect box is exactly 1 in every variant.
    for (const variant of LOC_REWARD_VARIANTS) expect(computeBoxLocReward(gt, gt, opts({ variant }))).toBe(1);
  });

  it('below τ uses λ from the options', () => {
    expect(computeBoxLocReward([300, 300, 400, 400], gt, opts({ lambda: 1 }))).toBeCloseTo(0.4, 6);
  });
});

const coord = fc.integer({ min: 0, max: 1000 });
const positiveBox = fc
  .tuple(coord, coord, fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 400 }))
  .map(([x, y, w, h]): Box => [x, y, x + w, y + h]);

describe('localization reward properties', () => {
  it('every variant is in [0, 1] and at least the IoU', () => {
    fc.assert(
      fc.property(positiveBox, positiveBox, fc.constantFrom(...LOC_REWARD_VARIANTS), (pred, gt, variant) => {
        const r = computeBoxLocReward(pred, gt, opts({ variant }));
        const iou = computeIou(pred, gt);
        expect(r).toBeGreaterThanOrEqual(iou);
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThanOrEqual(1 + 1e-12);
      }),
      { numRuns: 2000 },
    );
  });

  it('the paper variant above τ stays within [IoU, IoU + κ]', () => {
    fc.assert(
      fc.property(positiveBox, positiveBox, (pred, gt) => {
        const iou = computeIou(pred, gt);
        const r = computeBoxLocReward(pred, gt);
        if (iou >= DEFAULT_REWARD_OPTIONS.tau) expect(r - iou).toBeLessThanOrEqual(DEFAULT_REWARD_OPTIONS.kappa + 1e-12);
        else expect(r - iou).toBeLessThanOrEqual((1 - iou) * DEFAULT_REWARD_OPTIONS.lambda + 1e-12);
      }),
      { numRuns: 2000 },
    );
  });

  it('consistency terms are each in [0, 1]', () => {
    fc.assert(
      fc.property(positiveBox, positiveBox, (pred, gt) => {
        const c = computeConsistency(pred, gt);
        for (const v of [c.iou, c.sCenter, c.sScale, c.sCons]) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});

describe('computeLocReward on parsed answers', () => {
  const box = (b: Box): ParsedAnswer => ({ kind: 'box', box: b });
  const empty: ParsedAnswer = { kind: 'empty' };
  const invalid: ParsedAnswer = { kind: 'invalid', reason: 'no box' };
  const gt: Box = [100, 100, 200, 200];

  it('normal ground truth: 1 for the empty answer, else 0', () => {
    expect(computeLocReward(empty, null)).toBe(1);
    expect(computeLocReward(box([1, 2, 3, 4]), null)).toBe(0);
    expect(computeLocReward(invalid, null)).toBe(0);
    expect(computeLocReward(null, null)).toBe(0);
  });

  it('anomalous ground truth: 0 for an empty, invalid or missing answer', () => {
    expect(computeLocReward(empty, gt)).toBe(0);
    expect(computeLocReward(invalid, gt)).toBe(0);
    expect(computeLocReward(null, gt)).toBe(0);
    // Even the released variant, which rewards consistency everywhere.
    expect(computeLocReward(empty, gt, opts({ variant: 'dclr-released' }))).toBe(0);
  });

  it('anomalous ground truth with a box: the box reward of the chosen variant', () => {
    expect(computeLocReward(box([150, 150, 250, 250]), gt)).toBeCloseTo(0.322857, 6);
    expect(computeLocReward(box([150, 150, 250, 250]), gt, opts({ variant: 'dclr-released' }))).toBeCloseTo(0.742857, 6);
    expect(computeLocReward(box([150, 150, 250, 250]), gt, opts({ variant: 'iou' }))).toBeCloseTo(1 / 7, 12);
    expect(computeLocReward(box(gt), gt)).toBe(1);
  });
});

describe('computeTotalReward', () => {
  it('is R_fmt + R_loc with the default weights', () => {
    expect(computeTotalReward(1, 0.742857)).toBeCloseTo(1.742857, 12);
    expect(computeTotalReward(0, 0.4)).toBeCloseTo(0.4, 12);
  });

  it('applies w_fmt and w_loc', () => {
    expect(computeTotalReward(1, 0.5, { formatWeight: 0.5, locWeight: 2 })).toBeCloseTo(1.5, 12);
    expect(computeTotalReward(1, 0.5, { formatWeight: 0, locWeight: 1 })).toBeCloseTo(0.5, 12);
  });

  it('has docs/method.md §4 defaults', () => {
    expect(DEFAULT_REWARD_OPTIONS).toEqual({
      variant: 'dclr',
      alpha: 0.6,
      lambda: 0.3,
      tau: 0.3,
      kappa: 0.05,
      epsilon: 1e-6,
      formatWeight: 1,
      locWeight: 1,
    });
  });
});
