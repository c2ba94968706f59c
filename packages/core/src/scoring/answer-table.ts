import type { Box } from '../boxes/box.js';
import type { Frame } from '../boxes/frames.js';
import type { PredictionAnswer } from './score-sample.js';

/**
 * PredictionAnswers by a dense index (a manifest line's position), in typed
 * arrays: about 45 bytes a sample instead of an object, a string and a box
 * array each. Reasons and frames are interned (there are a handful).
 */
export interface AnswerTable {
  readonly size: number;
  set(index: number, parsed: PredictionAnswer): void;
  get(index: number): PredictionAnswer | undefined;
  has(index: number): boolean;
  /** How many of the indices below `end` hold an answer. */
  countBelow(end: number): number;
}

const NONE = 0;
const BOX = 1;
const EMPTY = 2;
const INVALID = 3;

/** An empty table for indices 0 … size − 1. */
export function createAnswerTable(size: number): AnswerTable {
  const kinds = new Uint8Array(size);
  const frames = new Uint8Array(size);
  const reasons = new Uint32Array(size);
  const formatRewards = new Float64Array(size);
  const boxes = new Float64Array(size * 4);
  const reasonNames: string[] = [];
  const reasonIds = new Map<string, number>();
  const frameNames: Frame[] = [];
  const intern = <T>(names: T[], value: T): number => {
    const i = names.indexOf(value);
    return i >= 0 ? i : names.push(value) - 1;
  };
  return {
    size,
    set(index, { answer, formatReward, frame }) {
      frames[index] = intern(frameNames, frame);
      formatRewards[index] = formatReward ?? Number.NaN;
      if (answer.kind === 'box') {
        kinds[index] = BOX;
        boxes.set(answer.box, index * 4);
      } else if (answer.kind === 'empty') {
        kinds[index] = EMPTY;
      } else {
        kinds[index] = INVALID;
        let id = reasonIds.get(answer.reason);
        if (id === undefined) reasonIds.set(answer.reason, (id = reasonNames.push(answer.reason) - 1));
        reasons[index] = id;
      }
    },
    get(index) {
      const kind = kinds[index];
      if (kind === undefined || kind === NONE) return undefined;
      const f = formatRewards[index]!;
      const base = { formatReward: Number.isNaN(f) ? null : f, frame: frameNames[frames[index]!]! };
      if (kind === BOX) {
        const at = index * 4;
        const box: Box = [boxes[at]!, boxes[at + 1]!, boxes[at + 2]!, boxes[at + 3]!];
        return { ...base, answer: { kind: 'box', box } };
      }
      if (kind === EMPTY) return { ...base, answer: { kind: 'empty' } };
      return { ...base, answer: { kind: 'invalid', reason: reasonNames[reasons[index]!]! } };
    },
    has(index) {
      return (kinds[index] ?? NONE) !== NONE;
    },
    countBelow(end) {
      let n = 0;
      for (let i = 0; i < Math.min(end, size); i++) if (kinds[i] !== NONE) n++;
      return n;
    },
  };
}
