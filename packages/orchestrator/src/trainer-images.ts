import { createHash } from 'node:crypto';
import { DifferadError } from '@differad/core';
import type { PreparedImage } from '@differad/images';
import type { Group } from '@differad/trainer-client';
import { recordOf } from './pair-index.js';
import type { RunContext } from './run-context.js';

/** One image of a trainer group: its sha256, with its bytes unless the trainer holds them. */
export type TrainerImage = Group['images'][number];

/** The step job's error when a pair's image file changed between its rollout and the step (non-retryable: a resumed run samples the step again). */
export const IMAGE_CHANGED_CODE = 'ORCHESTRATOR_IMAGE_CHANGED';

// The preparer hands out the same frozen object for an image it holds: its trainer form (a sha256 of the bytes) is made once.
const trainerImages = new WeakMap<PreparedImage, TrainerImage>();

/** The trainer form of a prepared frame: the bytes the inference server was sent, as base64, and their sha256. */
export function toTrainerImage(image: PreparedImage): TrainerImage {
  const known = trainerImages.get(image);
  if (known) return known;
  const { dataUrl } = image;
  const comma = dataUrl.indexOf(',');
  const media = /^data:(image\/(?:png|jpeg|webp));base64$/.exec(dataUrl.slice(0, comma))?.[1] as
    | 'image/png'
    | 'image/jpeg'
    | 'image/webp'
    | undefined;
  const data = dataUrl.slice(comma + 1);
  const sha256 = createHash('sha256').update(Buffer.from(data, 'base64')).digest('hex');
  const made = { sha256, data, ...(media ? { media_type: media } : {}) };
  trainerImages.set(image, made);
  return made;
}

/**
 * A pair's two frames in trainer form, prepared now. With `sent` (the
 * sha256 of the frames its rollout sent the server) they must be the same
 * frames: completions are only trained against the images they were
 * sampled with, so a file changed since fails the step, naming it.
 */
async function prepareTrainerImages(ctx: RunContext, pairId: string, sent: readonly string[] | undefined): Promise<TrainerImage[]> {
  const record = recordOf(ctx, pairId);
  if (!record) throw new DifferadError('ORCHESTRATOR_PAIR_UNKNOWN', `pair ${pairId} is not in the training manifest`);
  const pair = await ctx.preparer.preparePair(ctx.resolvePath(record.reference), ctx.resolvePath(record.target), {
    reference: record.reference,
    target: record.target,
  });
  const images = [toTrainerImage(pair.reference), toTrainerImage(pair.target)];
  const changed = sent === undefined ? -1 : images.findIndex((im, i) => im.sha256 !== sent[i]);
  if (changed >= 0) {
    const file = changed === 0 ? record.reference : record.target;
    throw new DifferadError(
      IMAGE_CHANGED_CODE,
      `pair ${pairId}: ${changed === 0 ? 'reference' : 'target'} image ${file} changed after its rollout sent it to the server (frame sha256 ${sent![changed]!.slice(0, 12)}… then, ${images[changed]!.sha256.slice(0, 12)}… now): its completions cannot be trained against another image. Continue with: differad train --resume ${ctx.runId} (the step is sampled again)`,
      { details: { pairId, file } },
    );
  }
  return images;
}

/**
 * The images of a pair's trainer group: by sha256 alone when its rollout
 * recorded the frames it sent and the trainer holds both (nothing read or
 * hashed), else prepared and checked against what the rollout sent.
 */
export function toGroupImages(ctx: RunContext, pairId: string, sent: readonly string[] | undefined): Promise<TrainerImage[]> {
  if (sent !== undefined && sent.length === 2 && sent.every((h) => ctx.imagesAtTrainer.has(h)))
    return Promise.resolve(sent.map((sha256) => ({ sha256 })));
  return prepareTrainerImages(ctx, pairId, sent);
}

/** The group with every image's bytes (a trainer that lost its image cache needs them again). */
export async function withImageBytes(ctx: RunContext, group: Group): Promise<Group> {
  if (group.images.every((im) => im.data !== undefined)) return group;
  const images = await prepareTrainerImages(
    ctx,
    group.pair_id ?? '',
    group.images.map((im) => im.sha256),
  );
  return { ...group, images };
}
