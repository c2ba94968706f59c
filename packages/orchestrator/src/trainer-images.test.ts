import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DifferadError } from '@differad/core';
import { createFramePreparer } from '@differad/images';
import { createPngDataUrl, type Rgb } from '@differad/testing';
import type { Group, TrainerClient } from '@differad/trainer-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunContext } from './run-context.js';
import { sendMicroBatch } from './step-worker.js';
import { toGroupImages, toTrainerImage, withImageBytes } from './trainer-images.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-trainer-images-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function writePng(name: string, color: Rgb): Promise<void> {
  const url = createPngDataUrl({ width: 32, height: 32, color });
  await writeFile(join(dir, name), Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

/** A run context with one pair (ref.png, tgt.png) and a preparer that counts the pairs it prepares. */
function context(trainer: Partial<TrainerClient> = {}) {
  const preparer = createFramePreparer();
  let prepared = 0;
  const ctx = {
    runId: 'run-i',
    records: [{ id: 'p1', reference: 'ref.png', target: 'tgt.png' }],
    pairIndex: new Map([['p1', 0]]),
    resolvePath: (p: string) => join(dir, p),
    preparer: {
      ...preparer,
      preparePair: (...args: Parameters<typeof preparer.preparePair>) => {
        prepared += 1;
        return preparer.preparePair(...args);
      },
    },
    trainer,
    imagesAtTrainer: new Set<string>(),
  } as unknown as RunContext;
  return { ctx, preparer, prepared: () => prepared };
}

/** What a rollout records: the sha256 of the two frames it sent. */
async function sentHashes(preparer: ReturnType<typeof createFramePreparer>): Promise<string[]> {
  const pair = await preparer.preparePair(join(dir, 'ref.png'), join(dir, 'tgt.png'));
  return [toTrainerImage(pair.reference).sha256, toTrainerImage(pair.target).sha256];
}

describe('trainer images of a step', () => {
  it('are prepared with their bytes the first time, then sent by hash alone without reading the files', async () => {
    await writePng('ref.png', [200, 200, 200]);
    await writePng('tgt.png', [200, 10, 10]);
    const { ctx, preparer, prepared } = context();
    const sent = await sentHashes(preparer);
    const first = await toGroupImages(ctx, 'p1', sent);
    expect(first.map((im) => [im.sha256, typeof im.data, im.media_type])).toEqual([
      [sent[0], 'string', 'image/png'],
      [sent[1], 'string', 'image/png'],
    ]);
    expect(prepared()).toBe(1);
    for (const h of sent) ctx.imagesAtTrainer.add(h);
    expect(await toGroupImages(ctx, 'p1', sent)).toEqual([{ sha256: sent[0] }, { sha256: sent[1] }]);
    expect(prepared()).toBe(1);
    // Groups stored before the frames were recorded: prepared as before.
    expect((await toGroupImages(ctx, 'p1', undefined)).map((im) => im.sha256)).toEqual(sent);
  });

  it('refuse an image file changed after the rollout sent it, naming the file', async () => {
    await writePng('ref.png', [200, 200, 200]);
    await writePng('tgt.png', [200, 10, 10]);
    const { ctx, preparer } = context();
    const sent = await sentHashes(preparer);
    await writePng('tgt.png', [10, 200, 10]);
    const error = await toGroupImages(ctx, 'p1', sent).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DifferadError);
    expect(error).toMatchObject({ code: 'ORCHESTRATOR_IMAGE_CHANGED', retryable: false, details: { pairId: 'p1', file: 'tgt.png' } });
    expect((error as Error).message).toMatch(
      /^pair p1: target image tgt\.png changed after its rollout sent it to the server .*Continue with: differad train --resume run-i/,
    );
  });

  it('a trainer that lost its image cache gets the bytes again for groups sent by hash', async () => {
    await writePng('ref.png', [200, 200, 200]);
    await writePng('tgt.png', [200, 10, 10]);
    const bodies: Group[][] = [];
    const forwardBackward = async (request: { groups: Group[] }) => {
      bodies.push(request.groups);
      if (request.groups.some((g) => g.images.some((im) => im.data === undefined)))
        throw new DifferadError('TRAINER_REJECTED', 'unknown image', { details: { error: { code: 'TRAINER_IMAGE_UNKNOWN' } } });
      return { loss: 0 };
    };
    const { ctx, preparer } = context({ forwardBackward } as unknown as Partial<TrainerClient>);
    const sent = await sentHashes(preparer);
    for (const h of sent) ctx.imagesAtTrainer.add(h);
    const group = { pair_id: 'p1', images: await toGroupImages(ctx, 'p1', sent) } as unknown as Group;
    const request = { run: 'run-i', step: 0, micro_batch: 0, micro_batches: 1, loss: {} } as never;
    await sendMicroBatch(ctx, request, [group]);
    expect(bodies.map((groups) => groups[0]!.images.map((im) => im.data !== undefined))).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(bodies[1]![0]!.images.map((im) => im.sha256)).toEqual(sent);
    expect(await withImageBytes(ctx, bodies[1]![0]!)).toBe(bodies[1]![0]);
  });
});
