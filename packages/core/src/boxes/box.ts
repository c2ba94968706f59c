/**
 * Axis-aligned boxes `[x1, y1, x2, y2]` (docs/method.md §1–§4). A box carries no frame
 * of its own: callers keep boxes of one frame together (see frames.ts).
 */
export type Box = readonly [x1: number, y1: number, x2: number, y2: number];

/** "No anomaly": `[0,0,0,0]` in every model frame. */
export const EMPTY_BOX: Box = Object.freeze([0, 0, 0, 0] as const);

/** True for the all-zero box that means "no anomaly". */
export function isEmptyBox(box: Box): boolean {
  return box[0] === 0 && box[1] === 0 && box[2] === 0 && box[3] === 0;
}

/** True when the box has positive width and height (x2 > x1, y2 > y1). */
export function hasPositiveArea(box: Box): boolean {
  return box[2] > box[0] && box[3] > box[1];
}

/** Area with docs/method.md §4's convention: max(0, x2−x1)·max(0, y2−y1). */
export function computeBoxArea(box: Box): number {
  return Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
}

/** Intersection over union; 0 when the union is empty. */
export function computeIou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  const inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const union = computeBoxArea(a) + computeBoxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Box centre `c(B)`. */
export function computeBoxCenter(box: Box): readonly [number, number] {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
}

/** Box diagonal length `diag(B)`. */
export function computeBoxDiagonal(box: Box): number {
  return Math.hypot(box[2] - box[0], box[3] - box[1]);
}
