import { describe, expect, it } from 'vitest';
import type { ManifestRecord, PredictionRecord } from '../records/records.js';
import { createAnswerTable } from './answer-table.js';
import { computeAnswerScore, computeSampleScore, DEFAULT_SCORE_SETTINGS, toPredictionAnswer } from './score-sample.js';

const record: ManifestRecord = {
  id: 'a',
  class: 'c',
  reference: 'r.png',
  target: 't.png',
  width: 640,
  height: 480,
  box: [10.5, 20, 200, 300],
};

describe('createAnswerTable', () => {
  it('gives back answers that score exactly as the predictions they were parsed from', () => {
    const predictions: (PredictionRecord | undefined)[] = [
      { id: 'a', completion: '<think>t</think><answer>(12,40),(300,610)</answer>' },
      { id: 'a', completion: '<think>t</think><answer>(0,0),(0,0)</answer>' },
      { id: 'a', completion: 'no answer at all' },
      { id: 'a', box: [11.25, 19.5, 199, 301] },
      { id: 'a', box: null },
      undefined,
    ];
    const table = createAnswerTable(predictions.length);
    predictions.forEach((p, i) => p !== undefined && table.set(i, toPredictionAnswer(p, DEFAULT_SCORE_SETTINGS)));
    expect(table.countBelow(predictions.length)).toBe(5);
    predictions.forEach((p, i) => {
      expect(table.has(i)).toBe(p !== undefined);
      expect(computeAnswerScore(record, table.get(i))).toEqual(computeSampleScore(record, p));
    });
  });
});
