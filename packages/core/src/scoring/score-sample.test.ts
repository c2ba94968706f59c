import { describe, expect, it } from 'vitest';
import { type ManifestRecord, ManifestRecordSchema, type PredictionRecord, PredictionRecordSchema } from '../records/records.js';
import { DEFAULT_REWARD_OPTIONS } from '../rewards/reward-options.js';
import { DEFAULT_SCORE_SETTINGS, type ScoreSettings, computeSampleScore } from './score-sample.js';

function manifest(over: Partial<ManifestRecord> = {}): ManifestRecord {
  return ManifestRecordSchema.parse({
    id: 's1',
    class: 'bottle',
    subset: 'object',
    reference: 'ref.png',
    target: 'tgt.png',
    width: 400,
    height: 200,
    box: [40, 20, 120, 100],
    ...over,
  });
}

const completion = (text: string): PredictionRecord => PredictionRecordSchema.parse({ id: 's1', completion: text });
const boxPrediction = (box: number[] | null): PredictionRecord => PredictionRecordSchema.parse({ id: 's1', box });

describe('computeSampleScore', () => {
  it('scores a norm1000 differad completion: rewards in the model frame, IoU in pixels', () => {
    // GT [40,20,120,100] in a 400×200 image is [100,100,300,500] in norm1000.
    const s = computeSampleScore(manifest(), completion('<think>dent</think><answer>(100,100),(300,500)</answer>'));
    expect(s).toMatchObject({
      id: 's1',
      class: 'bottle',
      subset: 'object',
      kind: 'box',
      valid: true,
      reason: null,
      frame: 'norm1000',
      box: [100, 100, 300, 500],
      box_pixels: [40, 20, 120, 100],
      gt_box: [100, 100, 300, 500],
      format_reward: 1,
      loc_reward: 1,
      reward: 2,
      anomalous: true,
      predictedBox: true,
      iou: 1,
      u: 1,
    });
  });

  it('scores a partly-right completion with the paper reward and the pixel IoU', () => {
    // GT in norm1000 is [100,100,300,500]; a box shifted right by 100 units (40 px).
    const s = computeSampleScore(manifest(), completion('<think>x</think><answer>(200,100),(400,500)</answer>'));
    expect(s.box_pixels).toEqual([80, 20, 160, 100]);
    expect(s.iou).toBeCloseTo(40 / 120, 9); // overlap 40×80 px over a union of 120×80 px
    expect(s.u).toBeCloseTo(40 / 120, 9);
    // norm1000 IoU 1/3 ≥ τ: IoU + min(1−IoU, κ·max(0, S − IoU)); centre offset 100 over diag √(200²+400²).
    const iou = 1 / 3;
    const sCons = 0.6 * (1 - 100 / Math.hypot(200, 400)) + 0.4;
    expect(s.loc_reward).toBeCloseTo(iou + 0.05 * (sCons - iou), 6);
    expect(s.reward).toBeCloseTo(1 + s.loc_reward, 12);
  });

  it('gives format reward 0 but still scores the box of a badly formatted completion', () => {
    const s = computeSampleScore(manifest(), completion('<answer>(100,100),(300,500)</answer>'));
    expect(s.format_reward).toBe(0);
    expect(s.loc_reward).toBe(1);
    expect(s.reward).toBe(1);
  });

  it('scores an unparsable completion as invalid with a reason', () => {
    const s = computeSampleScore(manifest(), completion('<think>hmm</think>I am not sure.'));
    expect(s).toMatchObject({ kind: 'invalid', valid: false, box: null, box_pixels: null, loc_reward: 0, iou: 0, u: 0 });
    expect(typeof s.reason).toBe('string');
  });

  it('scores a pixel box prediction in pixels, whatever frame is configured, with no format reward', () => {
    const s = computeSampleScore(manifest(), boxPrediction([60, 20, 120, 100]));
    expect(s).toMatchObject({
      kind: 'box',
      valid: true,
      frame: 'pixels',
      box: [60, 20, 120, 100],
      box_pixels: [60, 20, 120, 100],
      gt_box: [40, 20, 120, 100],
      format_reward: null,
      predictedBox: true,
    });
    expect(s.iou).toBeCloseTo(0.75, 12);
    expect(s.u).toBeCloseTo(0.75, 12);
    expect(s.reward).toBe(s.loc_reward);
    const resized: ScoreSettings = { ...DEFAULT_SCORE_SETTINGS, frame: 'resized-pixels' };
    expect(computeSampleScore(manifest(), boxPrediction([60, 20, 120, 100]), resized).box_pixels).toEqual([60, 20, 120, 100]);
  });

  it('scores a missing prediction as invalid: kind missing, valid false, u 0', () => {
    const s = computeSampleScore(manifest(), undefined);
    expect(s).toMatchObject({
      kind: 'missing',
      valid: false,
      box: null,
      box_pixels: null,
      format_reward: null,
      loc_reward: 0,
      reward: 0,
      u: 0,
    });
    expect(s.reason).not.toBeNull();
    const normal = computeSampleScore(manifest({ box: null }), undefined);
    expect(normal).toMatchObject({ kind: 'missing', valid: false, anomalous: false, u: 0, loc_reward: 0 });
  });

  it('scores a normal sample answered empty as correct', () => {
    const s = computeSampleScore(manifest({ box: null }), completion('<think>same</think><answer>(0,0),(0,0)</answer>'));
    expect(s).toMatchObject({
      kind: 'empty',
      valid: true,
      box: null,
      box_pixels: null,
      gt_box: null,
      anomalous: false,
      predictedBox: false,
      format_reward: 1,
      loc_reward: 1,
      reward: 2,
      u: 1,
    });
    for (const box of [null, [0, 0, 0, 0]]) {
      const p = computeSampleScore(manifest({ box: null }), boxPrediction(box));
      expect(p).toMatchObject({ kind: 'empty', loc_reward: 1, u: 1, format_reward: null });
    }
  });

  it('scores a box on a normal sample as wrong, and an empty answer on an anomalous one as wrong', () => {
    const fp = computeSampleScore(manifest({ box: null }), completion('<think>x</think><answer>(1,1),(9,9)</answer>'));
    expect(fp).toMatchObject({ kind: 'box', anomalous: false, predictedBox: true, loc_reward: 0, u: 0 });
    const miss = computeSampleScore(manifest(), completion('<think>x</think><answer>(0,0),(0,0)</answer>'));
    expect(miss).toMatchObject({ kind: 'empty', anomalous: true, predictedBox: false, loc_reward: 0, u: 0, reward: 1 });
  });

  it('converts resized-pixels boxes back to pixels (640×640 → 616×616)', () => {
    const record = manifest({ width: 640, height: 640, box: [64, 64, 320, 320] });
    const settings: ScoreSettings = { ...DEFAULT_SCORE_SETTINGS, frame: 'resized-pixels' };
    const s = computeSampleScore(record, completion('<think>x</think><answer>(62,62),(308,308)</answer>'), settings);
    expect(s.frame).toBe('resized-pixels');
    expect(s.gt_box).toEqual([62, 62, 308, 308]);
    expect(s.loc_reward).toBe(1);
    expect(s.box_pixels![0]).toBeCloseTo((62 * 640) / 616, 9);
    expect(s.box_pixels![2]).toBeCloseTo(320, 9);
    expect(s.iou).toBeCloseTo((320 - (62 * 640) / 616) ** 2 / 256 ** 2, 9);
  });

  it('honours the family and the reward variant of the settings', () => {
    const settings: ScoreSettings = {
      ...DEFAULT_SCORE_SETTINGS,
      family: 'minicpm',
      reward: { ...DEFAULT_REWARD_OPTIONS, variant: 'iou' },
    };
    const s = computeSampleScore(manifest(), completion('<box>200 100 400 500</box>'), settings);
    expect(s.kind).toBe('box');
    expect(s.loc_reward).toBeCloseTo(1 / 3, 9);
    expect(s.format_reward).toBe(0);
  });
});
