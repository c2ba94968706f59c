import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random/rng.js';
import { computeFormatReward } from '../rewards/format-reward.js';
import { MODEL_FAMILIES, type ModelFamily, isModelFamily } from './families.js';
import { type ParsedAnswer, findAnswerBlock, parseAnswer } from './parse-answer.js';

/** A correct answer and an empty answer in each family's docs/method.md §3 format. */
const EXAMPLES: Record<ModelFamily, { box: string; empty: string }> = {
  differad: {
    box: '<think>the scratch is top left</think><answer>(10,20),(30,40)</answer>',
    empty: '<think>no difference</think><answer>(0,0),(0,0)</answer>',
  },
  'univg-r1': { box: '<think>a</think>\n<answer>(10,20),(30,40)</answer>', empty: '<think>a</think><answer>(0,0),(0,0)</answer>' },
  migician: { box: '<think>a</think> <answer>(10,20),(30,40)</answer>', empty: '<think>a</think><answer>(0,0),(0,0)</answer>' },
  'qwen2-vl': { box: 'The defect: <|box_start|>(10,20),(30,40)<|box_end|>', empty: '<|box_start|>(0,0),(0,0)<|box_end|>' },
  'qwen2.5-vl': { box: '<|box_start|>(10,20),(30,40)<|box_end|>', empty: '<|box_start|>(0,0),(0,0)<|box_end|>' },
  'qwen3-vl': { box: '<|box_start|>(10,20),(30,40)<|box_end|>', empty: '<|box_start|>(0,0),(0,0)<|box_end|>' },
  internvl: { box: 'defect<box>[[10,20,30,40]]</box>', empty: '<box>[[0,0,0,0]]</box>' },
  cogvlm: { box: 'The anomaly is at [[10,20,30,40]].', empty: '[[0,0,0,0]]' },
  minicpm: { box: '<box>10 20 30 40</box>', empty: '<box>0 0 0 0</box>' },
  mantis: { box: '<box>[10, 20, 30, 40]</box>', empty: '<box>[0,0,0,0]</box>' },
  'mplug-owl3': { box: '<box>[10, 20, 30, 40]</box>', empty: '<box>[0,0,0,0]</box>' },
};

function expectWellFormed(r: ParsedAnswer): void {
  if (r.kind === 'box') {
    expect(r.box).toHaveLength(4);
    for (const v of r.box) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(r.box[2]).toBeGreaterThan(r.box[0]);
    expect(r.box[3]).toBeGreaterThan(r.box[1]);
  } else if (r.kind === 'invalid') {
    expect(typeof r.reason).toBe('string');
    expect(r.reason.length).toBeGreaterThan(0);
  } else {
    expect(r.kind).toBe('empty');
  }
}

function expectInvalid(r: ParsedAnswer): void {
  expect(r.kind).toBe('invalid');
  if (r.kind === 'invalid') expect(r.reason.length).toBeGreaterThan(0);
}

describe('parseAnswer, every family', () => {
  it('knows exactly the families of docs/method.md §3', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual([...MODEL_FAMILIES].sort());
    expect(isModelFamily('qwen2.5-vl')).toBe(true);
    expect(isModelFamily('gpt-4o')).toBe(false);
  });

  it.each(MODEL_FAMILIES)('%s: parses its box format and its empty form', (family) => {
    expect(parseAnswer(EXAMPLES[family].box, family)).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
    expect(parseAnswer(EXAMPLES[family].empty, family)).toEqual({ kind: 'empty' });
  });

  it.each(MODEL_FAMILIES)('%s: text without a box is invalid', (family) => {
    expectInvalid(parseAnswer('I cannot see any box here.', family));
    expectInvalid(parseAnswer('', family));
  });
});

describe('parseAnswer, <answer> families', () => {
  const p = (text: string) => parseAnswer(text, 'differad');

  it('only the <answer> block counts: a box outside it is ignored', () => {
    expect(p('<think>maybe (1,1),(5,5)</think><answer>(10,20),(30,40)</answer>')).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
    expect(p('<think>(1,1),(5,5)</think><answer>(0,0),(0,0)</answer>')).toEqual({ kind: 'empty' });
    expectInvalid(p('<think>x</think><answer>none</answer> (1,1),(5,5)'));
    expectInvalid(p('(1,1),(5,5) <answer>no idea</answer>'));
  });

  it('only the first <answer> block counts', () => {
    expect(p('<answer>(10,20),(30,40)</answer><answer>(50,60),(70,80)</answer>')).toEqual({
      kind: 'box',
      box: [10, 20, 30, 40],
    });
    expectInvalid(p('<answer>unsure</answer><answer>(50,60),(70,80)</answer>'));
  });

  it('accepts [x1,y1,x2,y2] inside the answer', () => {
    expect(p('<think>t</think><answer>[10,20,30,40]</answer>')).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
    expect(p('<answer>[0,0,0,0]</answer>')).toEqual({ kind: 'empty' });
  });

  it('tolerates whitespace anywhere inside the brackets', () => {
    expect(p('<answer> ( 10 , 20 ) ,\n( 30,\t40 ) </answer>')).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
    expect(p('<answer>[ 10 ,20 , 30,  40 ]</answer>')).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
  });

  it('takes the first box when there are two', () => {
    expect(p('<answer>(10,20),(30,40) (50,60),(70,80)</answer>')).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
    expect(p('<answer>[1,2,3,4] then (50,60),(70,80)</answer>')).toEqual({ kind: 'box', box: [1, 2, 3, 4] });
  });

  it('rejects a non-empty box with x2 <= x1 or y2 <= y1, with a reason', () => {
    for (const box of ['(30,20),(10,40)', '(10,20),(10,40)', '(10,40),(30,20)', '(10,20),(30,20)']) {
      const r = p(`<answer>${box}</answer>`);
      expectInvalid(r);
    }
  });

  it('rejects negative coordinates', () => {
    expectInvalid(p('<answer>(-10,20),(30,40)</answer>'));
  });

  it('is invalid without an answer block, or with an unterminated one', () => {
    expectInvalid(p('(10,20),(30,40)'));
    expectInvalid(p('<think>x</think><answer>(10,20),(30,40)'));
    expectInvalid(p('<think>(10,20),(30,40)</think>'));
  });

  it('is invalid for garbage and for incomplete boxes', () => {
    for (const text of [
      '<answer>)(</answer>',
      '<answer>(10,20)</answer>',
      '<answer>[1,2,3]</answer>',
      '<answer>(a,b),(c,d)</answer>',
      '}{<>;',
    ]) {
      expectInvalid(p(text));
    }
  });

  it('accepts decimals', () => {
    expect(p('<answer>(10.5,20.25),(30,40.75)</answer>')).toEqual({ kind: 'box', box: [10.5, 20.25, 30, 40.75] });
  });

  it('findAnswerBlock returns the span of the first block', () => {
    const text = 'ab<answer>xy</answer><answer>z</answer>';
    const block = findAnswerBlock(text);
    expect(block).not.toBeNull();
    expect(text.slice(block!.start, block!.end)).toBe('xy');
    expect(findAnswerBlock('<answer>open')).toBeNull();
  });
});

describe('parseAnswer, other families', () => {
  it('internvl: <box>[[x1,y1,x2,y2]]</box>', () => {
    expect(parseAnswer('<box>[[1,2,3,4]]</box>', 'internvl')).toEqual({ kind: 'box', box: [1, 2, 3, 4] });
  });

  it('minicpm: <box>x1 y1 x2 y2</box>, whitespace tolerated', () => {
    expect(parseAnswer('<box>1 2 3 4</box>', 'minicpm')).toEqual({ kind: 'box', box: [1, 2, 3, 4] });
    expect(parseAnswer('<box> 1  2\n3 4 </box>', 'minicpm')).toEqual({ kind: 'box', box: [1, 2, 3, 4] });
    expectInvalid(parseAnswer('<box>1 2 3</box>', 'minicpm'));
  });

  it('qwen2-vl: <|box_start|>(x1,y1),(x2,y2)<|box_end|>', () => {
    expect(parseAnswer('<|box_start|>(1,2),(3,4)<|box_end|>', 'qwen2-vl')).toEqual({ kind: 'box', box: [1, 2, 3, 4] });
  });

  it('qwen2.5-vl: JSON "bbox_2d"', () => {
    const text = '```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "scratch"}]\n```';
    expect(parseAnswer(text, 'qwen2.5-vl')).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
    expect(parseAnswer('{"bbox_2d": [10, 20, 30, 40]}', 'qwen3-vl')).toEqual({ kind: 'box', box: [10, 20, 30, 40] });
  });

  it('accepts decimals in every notation', () => {
    expect(parseAnswer('<box>[[1.5,2,3.25,4]]</box>', 'internvl')).toEqual({ kind: 'box', box: [1.5, 2, 3.25, 4] });
    expect(parseAnswer('<box>1.5 2 3.25 4</box>', 'minicpm')).toEqual({ kind: 'box', box: [1.5, 2, 3.25, 4] });
    expect(parseAnswer('<|box_start|>(1.5,2),(3.25,4)<|box_end|>', 'qwen2-vl')).toEqual({ kind: 'box', box: [1.5, 2, 3.25, 4] });
  });

  it('treats a coordinate too large to represent as invalid', () => {
    expectInvalid(parseAnswer(`[[1,2,${'9'.repeat(400)},4]]`, 'cogvlm'));
  });
});

const FRAGMENTS = [
  '<answer>',
  '</answer>',
  '<think>',
  '</think>',
  '<box>',
  '</box>',
  '<|box_start|>',
  '<|box_end|>',
  '(',
  ')',
  '[',
  ']',
  '[[',
  ']]',
  ',',
  ', ',
  ' ',
  '\n',
  '\t',
  '.',
  '-',
  '0',
  '1',
  '7',
  '42',
  '999',
  '1e5',
  'x',
  'bbox_2d',
  '"',
  ':',
  '{',
  '}',
  '\u00a0',
  '\u3000',
  '😀',
  // Whole boxes, so that random text also holds well-formed, empty and inverted answers.
  '(10,20),(30,40)',
  '(0,0),(0,0)',
  '(30,40),(10,20)',
  '[1,2,3,4]',
  '[0,0,0,0]',
  '<box>1 2 3 4</box>',
  '<box>0 0 0 0</box>',
];

const fragmentText = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 60 }).map((parts) => parts.join(''));

describe('parseAnswer on arbitrary text', () => {
  it('never throws and always returns a well-formed answer, for every family', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fragmentText);
    fc.assert(
      fc.property(text, (t) => {
        for (const family of MODEL_FAMILIES) expectWellFormed(parseAnswer(t, family));
        expect([0, 1]).toContain(computeFormatReward(t));
      }),
      { numRuns: 500 },
    );
  });

  it('survives a fuzz of 100,000 seeded random strings, for every family', () => {
    const rng = createRng('parse-answer-fuzz');
    const counts = { box: 0, empty: 0, invalid: 0 };
    for (let n = 0; n < 100_000; n++) {
      const parts: string[] = [];
      const len = rng.int(0, 200);
      for (let k = 0; k < len; k++) parts.push(rng.pick(FRAGMENTS));
      const text = parts.join('');
      for (const family of MODEL_FAMILIES) {
        const r = parseAnswer(text, family);
        counts[r.kind]++;
        if (r.kind === 'box') {
          if (!(r.box[2] > r.box[0] && r.box[3] > r.box[1] && r.box.every((v) => Number.isFinite(v) && v >= 0))) {
            throw new Error(`malformed box ${JSON.stringify(r.box)} from ${JSON.stringify(text)} (${family})`);
          }
        } else if (r.kind === 'invalid' && !(typeof r.reason === 'string' && r.reason.length > 0)) {
          throw new Error(`invalid without a reason from ${JSON.stringify(text)} (${family})`);
        }
      }
      const f = computeFormatReward(text);
      if (f !== 0 && f !== 1) throw new Error(`format reward ${f} from ${JSON.stringify(text)}`);
    }
    expect(counts.box + counts.empty + counts.invalid).toBe(100_000 * MODEL_FAMILIES.length);
    // The fragments are rich enough to exercise every outcome.
    expect(counts.box).toBeGreaterThan(0);
    expect(counts.empty).toBeGreaterThan(0);
    expect(counts.invalid).toBeGreaterThan(0);
  });
});

describe('parsing time is linear in the text', () => {
  const MB = 1 << 20;
  const repeatTo = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length));
  const pathological: Array<[string, string]> = [
    ['(1, repeated', repeatTo('(1,', 1.5 * MB)],
    ['[ repeated', repeatTo('[', 1.5 * MB)],
    ['<answer> + (0,0), repeated', '<answer>' + repeatTo('(0,0),', 1.5 * MB)],
    ['<answer> + ( 1 , repeated, closed', '<answer>' + repeatTo('( 1 ,', 1.5 * MB) + '</answer>'],
    ['<think> + </think> repeated', '<think>' + repeatTo('</think>', 1.5 * MB)],
    ['</think><answer> repeated', repeatTo('</think><answer>', 1.5 * MB)],
    ['<box>1 repeated', repeatTo('<box>1 ', 1.5 * MB)],
    ['[[1,2,3, repeated', repeatTo('[[1,2,3,', 1.5 * MB)],
    ['long digit runs', '<answer>(' + repeatTo('1', MB) + ',' + repeatTo('2', MB / 2)],
    ['whitespace runs', '<answer>(1,2),' + repeatTo(' ', 1.5 * MB) + '</answer>'],
  ];

  it.each(pathological)('%s parses for every family and scores a format reward', (_name, text) => {
    for (const family of MODEL_FAMILIES) expectWellFormed(parseAnswer(text, family));
    expect([0, 1]).toContain(computeFormatReward(text));
  });
});
