import type { Box } from '../boxes/box.js';
import type { ImageSize } from '../boxes/frames.js';

/** DeepPCB defect types by id (1..6), as the dataset's README numbers them (docs/method.md §10). */
export const DEEPPCB_DEFECT_TYPES = ['open', 'short', 'mousebite', 'spur', 'copper', 'pin-hole'] as const;
export type DeeppcbDefectType = (typeof DEEPPCB_DEFECT_TYPES)[number];

/** One annotated defect of a DeepPCB tested image, in its pixels. */
export interface DeeppcbDefect {
  readonly box: Box;
  readonly type: DeeppcbDefectType;
  /** 1-based line of the annotation file. */
  readonly line: number;
}

/** A line of an annotation file that cannot be used, and why. */
export interface AnnotationProblem {
  readonly line: number;
  readonly message: string;
}

/** The defects of one annotation file, and every line that could not be read. */
export interface ParsedDeeppcbAnnotation {
  readonly defects: readonly DeeppcbDefect[];
  readonly problems: readonly AnnotationProblem[];
}

function parseAnnotationLine(text: string, line: number, size: ImageSize): DeeppcbDefect | AnnotationProblem {
  // The published files are space-separated; a few copies in the wild use commas.
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length < 5) return { line, message: `expected "x1 y1 x2 y2 type", got ${parts.length} value(s): "${text}"` };
  const numbers = parts.slice(0, 5).map(Number);
  if (numbers.some((n) => !Number.isFinite(n))) return { line, message: `not a number in "${text}"` };
  const [x1, y1, x2, y2, type] = numbers as [number, number, number, number, number];
  const name = Number.isInteger(type) ? DEEPPCB_DEFECT_TYPES[type - 1] : undefined;
  if (name === undefined) return { line, message: `defect type ${type} is not 1..6 (open, short, mousebite, spur, copper, pin-hole)` };
  if (!(x2 > x1 && y2 > y1)) return { line, message: `box [${x1},${y1},${x2},${y2}] needs x2 > x1 and y2 > y1` };
  if (x1 < 0 || y1 < 0 || x2 > size.width || y2 > size.height) {
    return { line, message: `box [${x1},${y1},${x2},${y2}] lies outside the ${size.width}×${size.height} image` };
  }
  return { box: [x1, y1, x2, y2], type: name, line };
}

/**
 * Parses a DeepPCB annotation file (`x1 y1 x2 y2 type` per line, docs/method.md §10)
 * for a tested image of `size`. Never throws: lines with too few numbers, an
 * unknown type, an inverted box or a box outside the image are returned as
 * problems with their line number. Blank lines are ignored.
 */
export function parseDeeppcbAnnotation(text: string, size: ImageSize): ParsedDeeppcbAnnotation {
  const defects: DeeppcbDefect[] = [];
  const problems: AnnotationProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? '').trim();
    if (trimmed === '') continue;
    const parsed = parseAnnotationLine(trimmed, i + 1, size);
    if ('box' in parsed) defects.push(parsed);
    else problems.push(parsed);
  }
  return { defects, problems };
}
