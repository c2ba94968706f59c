import { z } from 'zod';
import type { Frame, ImageSize } from '../boxes/frames.js';
import { DifferadError } from '../errors/differad-error.js';
import type { ModelFamily } from '../parse/families.js';
import { createRng } from '../random/rng.js';
import { FAMILY_ANSWER_FORMATS, FRAME_RULES, INSTRUCTION_POOL, PLAIN_SYSTEM_TEMPLATE, TAGGED_SYSTEM_TEMPLATE } from './prompt-templates.js';

/** A prompt pool file: a JSON array of non-empty instruction strings. */
export const PromptPoolSchema = z
  .array(z.string().trim().min(1, 'an instruction must not be empty'))
  .min(1, 'the pool needs at least one instruction');
export type PromptPool = z.infer<typeof PromptPoolSchema>;

/** Validates a prompt pool (PROMPTS_INVALID naming `source` and the entry otherwise). */
export function parsePromptPool(value: unknown, source: string): PromptPool {
  const parsed = PromptPoolSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` (entry ${issue.path.join('.')})` : '';
  throw new DifferadError(
    'PROMPTS_INVALID',
    `${source} is not a prompt pool (a JSON array of strings)${where}: ${issue?.message ?? 'invalid'}`,
  );
}

/** Replaces `{name}` placeholders; unknown names are left as written. */
export function fillTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** The system instruction for a family answering in a frame; `size` is the target image as sent. */
export function toSystemPrompt(family: ModelFamily, frame: Frame, size: ImageSize): string {
  const format = FAMILY_ANSWER_FORMATS[family];
  const frameRule = fillTemplate(FRAME_RULES[frame], { width: size.width, height: size.height });
  return fillTemplate(format.tagged ? TAGGED_SYSTEM_TEMPLATE : PLAIN_SYSTEM_TEMPLATE, {
    box: format.box,
    empty: format.empty,
    frame_rule: frameRule,
  });
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
  /** The family the model answers as: its notation, its empty box, an answer block or not. */
  readonly family: ModelFamily;
  /** The frame its coordinates are read in (the same family and frame score the answer). */
  readonly frame: Frame;
  /** The target image as sent to the model (the model frame's size): `resized-pixels` and `pixels` state it. */
  readonly size: ImageSize;
  /** The pair's id. */
  readonly id: string;
  /** Seeds the draw together with `id`: evaluation passes its seed, training the group's sampling seed. */
  readonly seed: number | string;
  /** Paraphrases to draw from (default the project's INSTRUCTION_POOL). */
  readonly pool?: readonly string[];
}

/**
 * The prompt of one pair (docs/method.md §7): the family's system instruction
 * for the frame plus one paraphrase drawn by (seed, id). The one prompt
 * builder of differad: training rollouts, the held-out evaluation during
 * training and `differad eval` all ask through it, and {@link toPairMessages}
 * lays it out as the chat messages.
 */
export function toPairPrompt(options: PairPromptOptions): PairPrompt {
  return {
    system: toSystemPrompt(options.family, options.frame, options.size),
    prompt: pickInstruction(options.pool ?? INSTRUCTION_POOL, options.seed, options.id),
  };
}

/** A part of the user message: an image of the pair by index (0 the reference, 1 the target), or text. */
export type PairContentPart = { type: 'image'; image: 0 | 1 } | { type: 'text'; text: string };

/** A chat message of a pair request. */
export type PairMessage = { role: 'system'; content: string } | { role: 'user'; content: PairContentPart[] };

/**
 * The chat messages of a pair request (docs/method.md §7.2): the system
 * instruction when there is one, then one user message holding the
 * reference, the target and the instruction, in that order. The inference
 * request puts the images in as data URLs and the trainer receives the same
 * messages with the images by index, so both see one prompt.
 */
export function toPairMessages(prompt: { readonly system?: string | undefined; readonly prompt: string }): PairMessage[] {
  const user: PairMessage = {
    role: 'user',
    content: [
      { type: 'image', image: 0 },
      { type: 'image', image: 1 },
      { type: 'text', text: prompt.prompt },
    ],
  };
  return prompt.system === undefined ? [user] : [{ role: 'system', content: prompt.system }, user];
}
