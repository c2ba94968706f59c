import { z } from 'zod';
import { type Box, isEmptyBox } from '../boxes/box.js';
import { type ImageSize, toModelFrame, toPixelFrame } from '../boxes/frames.js';
import type { ManifestRecord } from '../records/records.js';

const numberList = z.array(z.number().finite());

/**
 * One line of the research code's JSONL: `images` = [reference, target]
 * (relative to an image root, or absolute) and `seg_gt_qwen2vl` = the box in
 * norm1000 (`[0,0,0,0]` = normal). A box written as a string such as
 * `"[12, 30, 200, 310]"` or nested as `[[…]]` is read too. Other keys are kept.
 */
export const ResearchLineSchema = z.looseObject({
  images: z.array(z.string().min(1)).min(2, 'images needs [reference, target]'),
  seg_gt_qwen2vl: z.union([numberList, z.array(numberList), z.string()]),
});
export type ResearchLine = z.infer<typeof ResearchLineSchema>;

/** The norm1000 box of a research line (null = normal), or a message saying why it is unusable. */
export function toResearchBox(value: ResearchLine['seg_gt_qwen2vl']): { box: Box | null } | { message: string } {
  let numbers: readonly number[] | undefined;
  if (typeof value === 'string') {
    const found = value.match(/-?\d+(?:\.\d+)?/g) ?? [];
    numbers = found.map(Number);
  } else {
    const first = value[0];
    numbers = Array.isArray(first) ? first : (value as number[]);
  }
  if (numbers.length !== 4) return { message: `seg_gt_qwen2vl needs 4 numbers, got ${numbers.length}` };
  const box = numbers as unknown as Box;
  if (isEmptyBox(box)) return { box: null };
  if (box.some((v) => v < 0 || v > 1000)) return { message: `seg_gt_qwen2vl ${JSON.stringify(numbers)} is outside 0..1000` };
  if (!(box[2] > box[0] && box[3] > box[1])) return { message: `seg_gt_qwen2vl ${JSON.stringify(numbers)} needs x2 > x1 and y2 > y1` };
  return { box };
}

/** A norm1000 box in whole pixels of an image of `size`, never collapsing below one pixel. */
export function toPixelBoxFromNorm1000(box: Box, size: ImageSize): Box {
  const p = toPixelFrame(box, 'norm1000', size);
  const x1 = Math.min(Math.round(p[0]), size.width - 1);
  const y1 = Math.min(Math.round(p[1]), size.height - 1);
  return [x1, y1, Math.max(x1 + 1, Math.min(Math.round(p[2]), size.width)), Math.max(y1 + 1, Math.min(Math.round(p[3]), size.height))];
}

/**
 * A manifest record as a research-code line: `images` (the given paths),
 * `seg_gt_qwen2vl` in norm1000 (`[0,0,0,0]` for a normal sample), plus `id`,
 * `class`, `subset`, `width` and `height` for traceability.
 */
export function toResearchLine(record: ManifestRecord, images: { reference: string; target: string }): Record<string, unknown> {
  const size = { width: record.width, height: record.height };
  const box = record.box === null ? [0, 0, 0, 0] : [...toModelFrame(record.box, 'norm1000', size)];
  return {
    id: record.id,
    class: record.class,
    ...(record.subset === undefined ? {} : { subset: record.subset }),
    images: [images.reference, images.target],
    seg_gt_qwen2vl: box,
    width: record.width,
    height: record.height,
  };
}
