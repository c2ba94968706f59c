import { createHash } from 'node:crypto';
import { type Box, createRng, type Rng } from '@differad/core';

/** The scripted answer policies of the fake server. */
export const ANSWER_POLICIES = ['exact', 'noisy', 'constant', 'garbage'] as const;
export type AnswerPolicyName = (typeof ANSWER_POLICIES)[number];

/** What a policy sees of one request. */
export interface AnswerContext {
  /** The first image of the user message (data URL), if any. */
  readonly referenceImage: string | null;
  /** The second image of the user message (data URL), if any. */
  readonly targetImage: string | null;
  /** All text of the messages, joined with newlines. */
  readonly prompt: string;
}

/**
 * Ground truth for `exact` and `noisy`: a box in norm1000 (0–1000), `null` for a
 * normal pair, `undefined` when the pair is unknown.
 */
export type BoxLookup = (context: AnswerContext) => Box | null | undefined;

/** Writes the text of choice `choice` for a request; deterministic in (context, seed, choice). */
export type AnswerPolicy = (context: AnswerContext, rng: Rng) => string;

/** sha256 (hex) of an image URL's text: the key of {@link createBoxLookup}. */
export function hashImageUrl(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

/** A lookup keyed by the sha256 of the target image's data URL (see {@link hashImageUrl}). */
export function createBoxLookup(entries: Iterable<{ readonly targetImage: string; readonly box: Box | null }>): BoxLookup {
  const byHash = new Map<string, Box | null>();
  for (const e of entries) byHash.set(hashImageUrl(e.targetImage), e.box);
  const cache = new Map<string, string>();
  return (context) => {
    if (context.targetImage === null) return undefined;
    let key = cache.get(context.targetImage);
    if (key === undefined) {
      key = hashImageUrl(context.targetImage);
      if (cache.size > 1024) cache.clear();
      cache.set(context.targetImage, key);
    }
    return byHash.get(key);
  };
}

/** Options of {@link createAnswerPolicy}. */
export interface AnswerPolicyOptions {
  readonly policy: AnswerPolicyName;
  /** Ground truth for `exact` and `noisy`; without it `exact` answers "normal" and `noisy` a random box. */
  readonly lookup?: BoxLookup;
  /** The answer of `constant`. */
  readonly constantText?: string;
  /** Standard deviation of `noisy` jitter, norm1000 units (default 40). */
  readonly noise?: number;
}

/** The default answer of the `constant` policy. */
export const DEFAULT_CONSTANT_ANSWER = '<think>The target matches the reference.</think><answer>(0,0),(0,0)</answer>';

const THOUGHTS = [
  'The target differs from the reference in one region.',
  'The surface texture is interrupted by a darker patch.',
  'Comparing both images, the outline changes near one edge.',
  'Most of the object matches the reference.',
];

const clamp = (v: number) => Math.max(0, Math.min(1000, Math.round(v)));

/** Formats a norm1000 box as the differad answer block. */
export function formatAnswer(think: string, box: Box | null): string {
  const b = box ?? [0, 0, 0, 0];
  return `<think>${think}</think><answer>(${b[0]},${b[1]}),(${b[2]},${b[3]})</answer>`;
}

function randomBox(rng: Rng): Box {
  const x1 = rng.int(0, 850);
  const y1 = rng.int(0, 850);
  return [x1, y1, x1 + rng.int(40, 150), y1 + rng.int(40, 150)];
}

function jitterBox(box: Box, rng: Rng, sd: number): Box {
  const x1 = clamp(box[0] + rng.normal() * sd);
  const y1 = clamp(box[1] + rng.normal() * sd);
  const x2 = Math.max(x1 + 1, clamp(box[2] + rng.normal() * sd));
  const y2 = Math.max(y1 + 1, clamp(box[3] + rng.normal() * sd));
  return [x1, y1, Math.min(1000, x2), Math.min(1000, y2)];
}

function thought(rng: Rng): string {
  const parts: string[] = [];
  for (let k = rng.int(1, 3); k > 0; k--) parts.push(rng.pick(THOUGHTS));
  return parts.join(' ');
}

/** Text with no answer block: what a broken or untrained model might write. */
export function writeGarbage(rng: Rng): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 ,.()<>[]/';
  let text = '';
  for (let k = rng.int(12, 60); k > 0; k--) text += alphabet[rng.int(0, alphabet.length - 1)];
  return text.replaceAll('<answer>', '');
}

/** Builds a policy: `exact` answers the lookup's box, `noisy` jitters it, `constant` repeats one text, `garbage` has no answer. */
export function createAnswerPolicy(options: AnswerPolicyOptions): AnswerPolicy {
  const sd = options.noise ?? 40;
  switch (options.policy) {
    case 'constant': {
      const text = options.constantText ?? DEFAULT_CONSTANT_ANSWER;
      return () => text;
    }
    case 'garbage':
      return (_context, rng) => writeGarbage(rng);
    case 'exact':
      return (context) => {
        const box = options.lookup?.(context);
        if (box === undefined) return formatAnswer('This pair is unknown to the fake server.', null);
        return formatAnswer(box === null ? 'The target matches the reference.' : THOUGHTS[0]!, box);
      };
    case 'noisy':
      return (context, rng) => {
        const truth = options.lookup?.(context);
        if (truth === null) return formatAnswer(thought(rng), rng.next() < 0.8 ? null : randomBox(rng));
        if (truth === undefined) return formatAnswer(thought(rng), randomBox(rng));
        return formatAnswer(thought(rng), jitterBox(truth, rng, sd));
      };
  }
}

/** The generator of choice `choice` of a request with `seed`: the same pair gives the same text. */
export function createChoiceRng(seed: number, choice: number): Rng {
  return createRng(`${seed}:${choice}`);
}
