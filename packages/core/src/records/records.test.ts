import { describe, expect, it } from 'vitest';
import { ManifestRecordSchema, PixelBoxSchema, PredictionRecordSchema, toFieldProblems } from './records.js';

const GOOD = {
  id: 'mvtec/bottle/000',
  class: 'bottle',
  subset: 'object',
  reference: 'ref/000.png',
  target: 'tgt/000.png',
  width: 100,
  height: 50,
  box: [10, 10, 20, 20],
};

/** The field paths that a rejected line is reported against. */
function problemFields(schema: typeof ManifestRecordSchema | typeof PredictionRecordSchema, value: unknown): string[] {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
  return toFieldProblems(result.error).map((p) => p.field);
}

describe('ManifestRecordSchema', () => {
  it('accepts a good line, a normal sample and a line without optional fields', () => {
    expect(ManifestRecordSchema.parse(GOOD)).toEqual(GOOD);
    expect(ManifestRecordSchema.safeParse({ ...GOOD, box: null }).success).toBe(true);
    const minimal: Record<string, unknown> = { ...GOOD };
    delete minimal.subset;
    expect(ManifestRecordSchema.safeParse(minimal).success).toBe(true);
    expect(ManifestRecordSchema.safeParse({ ...GOOD, mask: 'mask/000.png' }).success).toBe(true);
  });

  it('accepts a box touching the image border and fractional coordinates', () => {
    expect(ManifestRecordSchema.safeParse({ ...GOOD, box: [0, 0, 100, 50] }).success).toBe(true);
    expect(ManifestRecordSchema.safeParse({ ...GOOD, box: [0.5, 1.25, 99.5, 49.75] }).success).toBe(true);
  });

  it('accepts a reference cover-resized from another size, and rejects a crop outside that size', () => {
    const resized = { from: 'normals/n.png', width: 355, height: 362, fit: 'cover', crop: [0, 32, 355, 329] };
    expect(ManifestRecordSchema.parse({ ...GOOD, reference_resized: resized })).toMatchObject({ reference_resized: resized });
    expect(problemFields(ManifestRecordSchema, { ...GOOD, reference_resized: { ...resized, crop: [0, 32, 356, 329] } })).toEqual([
      'reference_resized.crop',
    ]);
    expect(problemFields(ManifestRecordSchema, { ...GOOD, reference_resized: { ...resized, fit: 'fill' } })).toEqual([
      'reference_resized.fit',
    ]);
  });

  it('keeps unknown keys for importers', () => {
    expect(ManifestRecordSchema.parse({ ...GOOD, defect_type: 'broken_large' })).toMatchObject({ defect_type: 'broken_large' });
  });

  it('rejects missing required fields, naming each', () => {
    for (const field of ['id', 'class', 'reference', 'target', 'width', 'height', 'box']) {
      const line: Record<string, unknown> = { ...GOOD };
      delete line[field];
      expect(problemFields(ManifestRecordSchema, line)).toEqual([field]);
    }
  });

  it('rejects empty strings', () => {
    expect(problemFields(ManifestRecordSchema, { ...GOOD, class: '' })).toEqual(['class']);
    expect(problemFields(ManifestRecordSchema, { ...GOOD, id: '' })).toEqual(['id']);
  });

  it('rejects a box that extends past the image', () => {
    expect(problemFields(ManifestRecordSchema, { ...GOOD, box: [10, 10, 101, 20] })).toEqual(['box']);
    expect(problemFields(ManifestRecordSchema, { ...GOOD, box: [10, 10, 20, 51] })).toEqual(['box']);
  });

  it('rejects x2 <= x1 or y2 <= y1, and the all-zero box (null means normal)', () => {
    for (const box of [
      [20, 10, 10, 20],
      [10, 10, 10, 20],
      [10, 20, 20, 10],
      [0, 0, 0, 0],
    ]) {
      expect(problemFields(ManifestRecordSchema, { ...GOOD, box })).toEqual(['box']);
    }
  });

  it('rejects negative, non-finite and missing coordinates, naming the coordinate', () => {
    expect(problemFields(ManifestRecordSchema, { ...GOOD, box: [10, -1, 20, 20] })).toEqual(['box.1']);
    expect(problemFields(ManifestRecordSchema, { ...GOOD, box: [10, 10, 20, Number.POSITIVE_INFINITY] })).toEqual(['box.3']);
    expect(problemFields(ManifestRecordSchema, { ...GOOD, box: [10, 10, 20] })).toEqual(['box']);
  });

  it('rejects a non-integer or non-positive size', () => {
    expect(problemFields(ManifestRecordSchema, { ...GOOD, width: 100.5 })).toEqual(['width']);
    expect(problemFields(ManifestRecordSchema, { ...GOOD, height: 0 })[0]).toBe('height');
    expect(problemFields(ManifestRecordSchema, { ...GOOD, width: '100' })).toEqual(['width']);
  });

  it('reports every bad field of a line', () => {
    expect(problemFields(ManifestRecordSchema, { ...GOOD, id: 5, width: -1 })).toEqual(['id', 'width']);
  });
});

describe('PixelBoxSchema', () => {
  it('accepts a positive-area box and rejects the rest', () => {
    expect(PixelBoxSchema.safeParse([1, 2, 3, 4]).success).toBe(true);
    expect(PixelBoxSchema.safeParse([3, 2, 1, 4]).success).toBe(false);
    expect(PixelBoxSchema.safeParse([1, 2, 3, 4, 5]).success).toBe(false);
    expect(PixelBoxSchema.safeParse([1, 2, 3, Number.NaN]).success).toBe(false);
  });
});

describe('PredictionRecordSchema', () => {
  it('accepts a completion line', () => {
    expect(PredictionRecordSchema.parse({ id: 'a', completion: '<answer>(1,2),(3,4)</answer>' })).toEqual({
      id: 'a',
      completion: '<answer>(1,2),(3,4)</answer>',
    });
    expect(PredictionRecordSchema.safeParse({ id: 'a', completion: '' }).success).toBe(true);
  });

  it('accepts a pixel box line, a null box and the all-zero box', () => {
    expect(PredictionRecordSchema.parse({ id: 'a', box: [1.5, 2, 30, 40] })).toEqual({ id: 'a', box: [1.5, 2, 30, 40] });
    expect(PredictionRecordSchema.safeParse({ id: 'a', box: null }).success).toBe(true);
    expect(PredictionRecordSchema.safeParse({ id: 'a', box: [0, 0, 0, 0] }).success).toBe(true);
  });

  it('keeps extra keys', () => {
    expect(PredictionRecordSchema.parse({ id: 'a', box: null, model: 'm' })).toMatchObject({ model: 'm' });
  });

  it('rejects a line with neither form, naming a field', () => {
    const fields = problemFields(PredictionRecordSchema, { id: 'a' });
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.every((f) => f === 'completion' || f === 'box')).toBe(true);
  });

  it('rejects an empty id, naming it', () => {
    expect(problemFields(PredictionRecordSchema, { id: '', completion: 'x' })).toEqual(['id']);
  });

  it('reports a line that is not an object against the whole line', () => {
    expect(problemFields(PredictionRecordSchema, 'just text')).toEqual(['']);
  });
});

describe('toFieldProblems', () => {
  it('gives a dotted path and a message for each issue', () => {
    const result = ManifestRecordSchema.safeParse({ ...GOOD, box: [10, -1, 20, 20] });
    expect(result.success).toBe(false);
    if (result.success) return;
    const problems = toFieldProblems(result.error);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe('box.1');
    expect(problems[0]!.message.length).toBeGreaterThan(0);
  });

  it('explains a box past the image with its size', () => {
    const result = ManifestRecordSchema.safeParse({ ...GOOD, box: [10, 10, 120, 20] });
    if (result.success) throw new Error('expected a rejection');
    expect(toFieldProblems(result.error)[0]!.message).toContain('100×50');
  });
});
