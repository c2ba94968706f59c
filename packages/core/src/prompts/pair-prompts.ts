import { z } from 'zod';
import type { Frame, ImageSize } from '../boxes/frames.js';
import { DifferadError } from '../errors/differad-error.js';
import type { ModelFamily } from '../parse/families.js';
import { createRng } from '../random/rng.js';
import { FAMILY_ANSWER_FORMATS, FRAME_RULES, INSTRUCTION_POOL, PLAIN_SYSTEM_TEMPLATE, TAGGED_SYSTEM_TEMPLATE } from './prompt-templates.js';

/** A prompt pool file: a JSON array of non-empty instruction strings. */
export const PromptPoolSchema = z.array(z.string().trim().min(1, 'an instruction must not be empty')).min(1, 'the pool needs at least one instruction');
export type PromptPool = z.infer<typeof PromptPoolSchema>;

/** Validates a prompt pool (PROMPTS_INVALID naming `source` and the entry otherwise). */
export function parsePromptPool(value: unknown, source: string): PromptPool {
  const parsed = PromptPoolSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` (entry ${issue.path.join('.')})` : '';
  throw new DifferadError('PROMPTS_INVALID', `${source} is not a prompt pool (a JSON array of strings)${where}: ${issue?.message ?? 'invalid'}`);
}

/** Replaces `{name}` placeholders; unknown names are left as written. */
export function fillTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** The system instruction for a family answering in a frame; `size` is the target image as sent. */
export function toSystemPrompt(family: ModelFamily, frame: Frame, size: ImageSize): string {
  const format = FAMILY_ANSWER_FORMATS[family];
  const frameRule = fillTemplate(FRAME_RULES[frame], { width: size.width, height: size.height });
  return fillTemplate(format.tagged ? TAGGED_SYSTEM_TEMPLATE : PLAIN_SYSTEM_TEMPLATE, { box: format.box, empty: format.empty, frame_rule: frameRule });
}

/** The instruction of pair `id`: drawn from `pool` with a generator seeded by (seed, id), so reruns ask the same. */
export function pickInstruction(pool: readonly string[], seed: number | string, id: string): string {
  return createRng(`prompt/${seed}/${id}`).pick(pool);
}

/** What a paired request says: the system instruction and the user instruction after both images. */
export interface PairPrompt {
  readonly system: string;
  readonly prompt: string;
}

/** Settings of {@link toPairPrompt}. */
export interface PairPromptOptions {
  readonly family: ModelFamily;
  readonly frame: Frame;
  /** The target image as sent to the model (the model frame's size). */
  readonly size: ImageSize;
  readonly id: string;
  readonly seed: number | string;
  /** Paraphrases to draw from (default the project's INSTRUCTION_POOL). */
  readonly pool?: readonly string[];
}

/** The prompt of one pair (docs/method.md §7): the family's system instruction plus one seeded paraphrase. */
export function toPairPrompt(options: PairPromptOptions): PairPrompt {
  return {
    system: toSystemPrompt(options.family, options.frame, options.size),
    prompt: pickInstruction(options.pool ?? INSTRUCTION_POOL, options.seed, options.id),
  };
}
