import { z } from 'zod';

const coordinate = z.number().finite().nonnegative();

/** A pixel box in a manifest: four non-negative numbers with x2 > x1 and y2 > y1. */
export const PixelBoxSchema = z
  .tuple([coordinate, coordinate, coordinate, coordinate])
  .refine((b) => b[2] > b[0] && b[3] > b[1], {
    message: 'box needs x2 > x1 and y2 > y1 (use null for a normal sample)',
  })
  .readonly();

/**
 * How an importer brought a reference of another size to its target's size:
 * the `crop` window of `from` (a `width`×`height` image, path relative to the
 * manifest) scaled to the record's size. `cover` = one scale factor for both
 * axes and a centred crop, so the reference is never stretched.
 */
export const ReferenceResizedSchema = z
  .looseObject({
    from: z.string().min(1),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    fit: z.literal('cover'),
    crop: PixelBoxSchema,
  })
  .superRefine((r, ctx) => {
    if (r.crop[2] > r.width || r.crop[3] > r.height) {
      ctx.addIssue({
        code: 'custom',
        path: ['crop'],
        message: `crop ${JSON.stringify(r.crop)} extends past the ${r.width}×${r.height} source`,
      });
    }
  });
export type ReferenceResized = z.infer<typeof ReferenceResizedSchema>;

/**
 * One manifest line: a reference/target pair and its ground truth in pixels
 * of the target (`box: null` = normal). Paths are relative to the manifest
 * file. Unknown keys are kept, so importers may add their own.
 */
export const ManifestRecordSchema = z
  .looseObject({
    id: z.string().min(1),
    class: z.string().min(1),
    subset: z.string().min(1).optional(),
    reference: z.string().min(1),
    target: z.string().min(1),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    box: PixelBoxSchema.nullable(),
    mask: z.string().min(1).optional(),
    /** Set when the reference file is a resized copy of another image. */
    reference_resized: ReferenceResizedSchema.optional(),
  })
  .superRefine((r, ctx) => {
    const sized = Number.isInteger(r.width) && r.width > 0 && Number.isInteger(r.height) && r.height > 0;
    if (sized && r.box !== null && (r.box[2] > r.width || r.box[3] > r.height)) {
      ctx.addIssue({
        code: 'custom',
        path: ['box'],
        message: `box ${JSON.stringify(r.box)} extends past the ${r.width}×${r.height} image`,
      });
    }
  });
export type ManifestRecord = z.infer<typeof ManifestRecordSchema>;

const anyCoordinate = z.number().finite();

/**
 * One prediction line: raw model text (`completion`, parsed with a family and
 * frame), or a box already in pixels (`null` or `[0,0,0,0]` = no anomaly).
 */
export const CompletionPredictionSchema = z.looseObject({ id: z.string().min(1), completion: z.string() });
export const BoxPredictionSchema = z.looseObject({
  id: z.string().min(1),
  box: z.tuple([anyCoordinate, anyCoordinate, anyCoordinate, anyCoordinate]).readonly().nullable(),
});
export const PredictionRecordSchema = z.union([CompletionPredictionSchema, BoxPredictionSchema]);
export type PredictionRecord = z.infer<typeof PredictionRecordSchema>;

/**
 * Validates a prediction line against the form its keys announce (a line with
 * `completion` is text, otherwise a box), so errors name the field the user
 * actually wrote.
 */
export function parsePredictionRecord(value: unknown) {
  const hasCompletion = typeof value === 'object' && value !== null && 'completion' in value;
  return hasCompletion ? CompletionPredictionSchema.safeParse(value) : BoxPredictionSchema.safeParse(value);
}

/** One line's validation problem, with the dotted field path (or "" for the line). */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** Flattens zod issues into field/message pairs, with allowed values where zod gives them. */
export function toFieldProblems(error: z.ZodError): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the alternative that got furthest: the one with the fewest issues.
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      for (const sub of best) out.push({ field: [...issue.path, ...sub.path].join('.'), message: sub.message });
      continue;
    }
    out.push({ field: issue.path.map(String).join('.'), message: issue.message });
  }
  return out;
}
