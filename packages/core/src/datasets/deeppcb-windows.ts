import type { Box } from '../boxes/box.js';
import type { ImageSize } from '../boxes/frames.js';
import type { Rng } from '../random/rng.js';

/** True when two boxes share an area (touching edges do not count). */
export function isOverlapping(a: Box, b: Box): boolean {
  return Math.min(a[2], b[2]) > Math.max(a[0], b[0]) && Math.min(a[3], b[3]) > Math.max(a[1], b[1]);
}

/** True when `inner` lies entirely inside `outer`. */
export function isBoxInside(inner: Box, outer: Box): boolean {
  return inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];
}

/** Why a defect got no window of its own. */
export type WindowMiss = 'larger-than-window' | 'too-close-to-another';

/** A single-defect window for the defect at `index`, or why there is none. */
export type DefectWindow =
  | { readonly index: number; readonly ok: true; readonly window: Box }
  | { readonly index: number; readonly ok: false; readonly reason: WindowMiss };

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

/** Candidate positions along one axis: the preferred one and every boundary where an obstacle stops. */
function axisCandidates(preferred: number, lo: number, hi: number, edges: readonly number[]): number[] {
  const out = new Set<number>([preferred, lo, hi]);
  for (const e of edges) if (e >= lo && e <= hi) out.add(e);
  return [...out];
}

/**
 * The window of side `size` (a square) that holds `boxes[index]` entirely and
 * shares no area with any other box, placed as close as possible to centred on
 * the defect (docs/method.md §10: the same window cut from template and tested image
 * holds exactly one defect). Exact: the closest feasible position is the
 * centred one or lies on a boundary of an obstacle, and those are all tried.
 */
export function selectDefectWindow(boxes: readonly Box[], index: number, image: ImageSize, size: number): DefectWindow {
  const box = boxes[index];
  if (box === undefined) throw new RangeError(`no box at index ${index}`);
  if (box[2] - box[0] > size || box[3] - box[1] > size) return { index, ok: false, reason: 'larger-than-window' };
  // Window origins (wx, wy) that keep the box inside the window and the window inside the image.
  const loX = Math.max(0, Math.ceil(box[2] - size));
  const hiX = Math.min(Math.floor(box[0]), image.width - size);
  const loY = Math.max(0, Math.ceil(box[3] - size));
  const hiY = Math.min(Math.floor(box[1]), image.height - size);
  if (loX > hiX || loY > hiY) return { index, ok: false, reason: 'larger-than-window' };
  const px = clamp(Math.round((box[0] + box[2] - size) / 2), loX, hiX);
  const py = clamp(Math.round((box[1] + box[3] - size) / 2), loY, hiY);
  const others = boxes.filter((_, k) => k !== index);
  const xs = axisCandidates(
    px,
    loX,
    hiX,
    others.flatMap((o) => [Math.ceil(o[2]), Math.floor(o[0] - size)]),
  );
  const ys = axisCandidates(
    py,
    loY,
    hiY,
    others.flatMap((o) => [Math.ceil(o[3]), Math.floor(o[1] - size)]),
  );
  let best: Box | null = null;
  let bestDistance = Infinity;
  for (const x of xs) {
    for (const y of ys) {
      const distance = (x - px) ** 2 + (y - py) ** 2;
      if (distance >= bestDistance) continue;
      const window: Box = [x, y, x + size, y + size];
      if (others.some((o) => isOverlapping(window, o))) continue;
      best = window;
      bestDistance = distance;
    }
  }
  return best === null ? { index, ok: false, reason: 'too-close-to-another' } : { index, ok: true, window: best };
}

/** {@link selectDefectWindow} for every box, in order. */
export function selectDefectWindows(boxes: readonly Box[], image: ImageSize, size: number): DefectWindow[] {
  return boxes.map((_, index) => selectDefectWindow(boxes, index, image, size));
}

/** Window origins along one axis on a grid of `step`, always including the far edge. */
function gridPositions(extent: number, size: number, step: number): number[] {
  const out: number[] = [];
  for (let p = 0; p <= extent - size; p += step) out.push(p);
  if (out.length > 0 && out[out.length - 1] !== extent - size) out.push(extent - size);
  return out;
}

/**
 * Up to `count` windows of side `size` that share no area with any defect box
 * nor with each other: normal samples (docs/method.md §10). Positions lie on a grid of
 * a quarter window; which ones are taken is drawn with `rng`, so a seed gives
 * the same windows.
 */
export function selectNormalWindows(boxes: readonly Box[], image: ImageSize, size: number, count: number, rng: Rng): Box[] {
  if (count <= 0 || image.width < size || image.height < size) return [];
  const step = Math.max(1, Math.floor(size / 4));
  const candidates: Box[] = [];
  for (const y of gridPositions(image.height, size, step)) {
    for (const x of gridPositions(image.width, size, step)) {
      const window: Box = [x, y, x + size, y + size];
      if (!boxes.some((b) => isOverlapping(window, b))) candidates.push(window);
    }
  }
  const chosen: Box[] = [];
  while (chosen.length < count && candidates.length > 0) {
    const k = rng.int(0, candidates.length - 1);
    const window = candidates[k] as Box;
    chosen.push(window);
    for (let j = candidates.length - 1; j >= 0; j--) if (isOverlapping(candidates[j] as Box, window)) candidates.splice(j, 1);
  }
  return chosen;
}
