import type { SampleScore } from './score-sample.js';

/**
 * The line `differad score --out` writes per sample (a contract other tools
 * read): `iou` is the evaluation IoU u of docs/method.md §8, `box` the prediction in
 * the frame it was given in (null when empty or invalid).
 */
export interface ScoreLine {
  readonly id: string;
  readonly class: string;
  readonly subset: string | null;
  readonly valid: boolean;
  readonly kind: SampleScore['kind'];
  readonly reason: string | null;
  readonly frame: SampleScore['frame'];
  readonly box: SampleScore['box'];
  readonly box_pixels: SampleScore['box_pixels'];
  readonly gt_box: SampleScore['gt_box'];
  readonly format_reward: number | null;
  readonly loc_reward: number;
  readonly reward: number;
  readonly iou: number;
  readonly box_iou: number;
}

function round3(box: SampleScore['box_pixels']): SampleScore['box_pixels'] {
  if (box === null) return null;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return [r(box[0]), r(box[1]), r(box[2]), r(box[3])];
}

export function toScoreLine(s: SampleScore): ScoreLine {
  return {
    id: s.id,
    class: s.class,
    subset: s.subset ?? null,
    valid: s.valid,
    kind: s.kind,
    reason: s.reason,
    frame: s.frame,
    box: s.box,
    box_pixels: round3(s.box_pixels),
    gt_box: s.gt_box,
    format_reward: s.format_reward,
    loc_reward: s.loc_reward,
    reward: s.reward,
    iou: s.u,
    box_iou: s.iou,
  };
}
