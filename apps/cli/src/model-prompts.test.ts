import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { FRAMES, MODEL_FAMILIES, type ManifestRecord, parseAnswer, type ScoredGroup, toSamplingSeed } from '@differad/core';
import {
  buildRunContext,
  createRolloutProcessor,
  type GroupStore,
  type ResolvedTrainConfig,
  type RunContext,
  type SlotResult,
  toTrainerGroup,
} from '@differad/orchestrator';
import { type CatalogQueues, DEFAULT_JOB_SETTINGS, type JobName } from '@differad/queue';
import { createPngDataUrl, type Rgb } from '@differad/testing';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './testing/capture-io.js';
import { answerAsAsked, type ScriptedModelServer, type SeenAnomaly, startScriptedModel, toColorKey } from './testing/scripted-model.js';

/*
 * A model that answers exactly what the prompt asks for — the family's
 * notation, the frame's coordinates for the image size the prompt states —
 * must get R_loc 1 in training and IoU 1 in evaluation, for every family and
 * frame. The targets are 1120×840: the Qwen resize (default settings) sends
 * them as 728×532, so a prompt that names the wrong frame or size, or images
 * sent at another size than the prompt says, cannot score 1. The box is chosen
 * so that every frame's integers convert back to the same pixels.
 */
const SIZE = { width: 1120, height: 840 } as const;
const BOX = [140, 210, 560, 630] as const;
const PAIRS: readonly { id: string; color: Rgb; box: readonly [number, number, number, number] | null }[] = [
  { id: 'scratch', color: [200, 40, 40], box: BOX },
  { id: 'normal', color: [40, 200, 40], box: null },
];

let dir: string;
let manifest: string;
let model: ScriptedModelServer;

function toSeen(box: readonly [number, number, number, number] | null): SeenAnomaly {
  return box === null ? null : [box[0] / SIZE.width, box[1] / SIZE.height, box[2] / SIZE.width, box[3] / SIZE.height];
}

async function writePng(path: string, color: Rgb): Promise<void> {
  const url = createPngDataUrl({ ...SIZE, color });
  await writeFile(path, Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-model-prompts-'));
  await writePng(join(dir, 'reference.png'), [128, 128, 128]);
  const lines: ManifestRecord[] = [];
  for (const pair of PAIRS) {
    await writePng(join(dir, `${pair.id}.png`), pair.color);
    lines.push({ id: pair.id, class: 'part', reference: 'reference.png', target: `${pair.id}.png`, ...SIZE, box: pair.box });
  }
  manifest = join(dir, 'manifest.jsonl');
  await writeFile(manifest, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  model = await startScriptedModel(new Map(PAIRS.map((p) => [toColorKey(p.color), toSeen(p.box)])));
});

afterAll(async () => {
  await model?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Group storage in memory: what the rollout worker keeps in Redis. */
function createMemoryGroups(): GroupStore & { results: Map<number, SlotResult> } {
  const scores = new Map<number, Map<number, ScoredGroup>>();
  const results = new Map<number, SlotResult>();
  return {
    results,
    loadSampling: async () => null,
    recordScore: async (_run, _step, slot, attempt, scored) => {
      scores.set(slot, (scores.get(slot) ?? new Map<number, ScoredGroup>()).set(attempt, scored));
      return { scores: new Map(scores.get(slot)), replacements: new Map() };
    },
    loadScores: async (_run, _step, slot) => new Map(scores.get(slot) ?? []),
    markReplacement: async () => undefined,
    loadReplacements: async () => new Map(),
    saveResult: async (_run, _step, slot, result) => void results.set(slot, result),
    loadResult: async (_run, _step, slot) => results.get(slot) ?? null,
    startRegeneration: async () => undefined,
    countRegenerated: async () => 0,
  };
}

/** Queues that keep the jobs added to them, so a test can run each one itself. */
function createMemoryQueues(): { catalog: CatalogQueues; added: { name: JobName; data: unknown }[] } {
  const added: { name: JobName; data: unknown }[] = [];
  const queue = { add: async (name: JobName, data: unknown) => void added.push({ name, data }) };
  const queues = { rollout: queue, resample: queue, score: queue, step: queue };
  return { catalog: { queues, settings: DEFAULT_JOB_SETTINGS } as unknown as CatalogQueues, added };
}

const STEP_JOB = { id: 'rollout', parent: { id: 'step', queueKey: 'bull:step' } } as unknown as Job;

/** The user message's images as indexes, as the trainer receives them. */
function toIndexedMessages(messages: NonNullable<(typeof model.requests)[number]>['messages']) {
  let image = 0;
  return messages.map((m) => ({
    role: m.role,
    content:
      typeof m.content === 'string'
        ? m.content
        : m.content.map((p) => (p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image', image: image++ })),
  }));
}

/** One training step's rollouts and scores over both pairs, through the run's real context and workers. */
async function trainOnce(family: string, frame: string, prompt: { pool?: string } = {}) {
  const config = TrainConfigSchema.parse({
    run: { id: 'prompts', seed: 5, runsDir: join(dir, 'runs') },
    data: { train: manifest, eval: manifest },
    policy: { kind: 'endpoints', endpoints: [model.url], model: model.model, family, frame, syncBackend: 'none' },
    trainer: { kind: 'url', url: 'http://127.0.0.1:9' },
    grpo: { groupSize: 2, pairsPerStep: PAIRS.length, maxResamples: 0, onExhausted: 'keep' },
    prompt,
  }) as ResolvedTrainConfig;
  const queues = createMemoryQueues();
  const ctx: RunContext = await buildRunContext('prompts', config, {
    redis: null as never,
    store: null as never,
    queues: queues.catalog,
    log: () => undefined,
  });
  try {
    const groups = createMemoryGroups();
    const rollout = createRolloutProcessor(ctx, groups);
    for (const [pairIndex, pair] of PAIRS.entries()) {
      // The rollout scores its group itself and keeps it: no job is added (maxResamples 0).
      await rollout(
        { runId: 'prompts', step: 0, pairIndex, pairId: pair.id, attempt: 0, seed: toSamplingSeed(5, 0, pairIndex, 0), weightVersion: 0 },
        STEP_JOB,
      );
      expect(queues.added).toEqual([]);
    }
    const sent = model.requests.slice(-PAIRS.length);
    const trained = await Promise.all(PAIRS.map((_, k) => toTrainerGroup(ctx, groups.results.get(k)!)));
    const heldOut = await ctx.evaluate!(0);
    return { results: PAIRS.map((_, k) => groups.results.get(k)!), sent, trained, heldOut };
  } finally {
    await ctx.fleet.close();
    await ctx.trainer.close();
  }
}

describe('the scripted model', () => {
  it('answers in the notation and frame a prompt states', () => {
    const prompt =
      'Answer with one box written as <box>[[x1,y1,x2,y2]]</box> with x1 < x2.\nCoordinates are pixels of the target image (200×100).';
    expect(answerAsAsked(prompt, [0.1, 0.2, 0.5, 0.6])).toBe('<box>[[20,20,100,60]]</box>');
    expect(answerAsAsked(prompt, null)).toBe('<box>[[0,0,0,0]]</box>');
    const tagged =
      'Reason inside <think></think>, then write the box inside <answer></answer>, as (x1,y1),(x2,y2) with x1 < x2. Coordinates are integers from 0 to 1000.';
    expect(parseAnswer(answerAsAsked(tagged, [0.1, 0.2, 0.5, 0.6]), 'differad')).toMatchObject({ kind: 'box', box: [100, 200, 500, 600] });
    expect(() => answerAsAsked('Find the defect.', null)).toThrow(/no box notation/);
  });
});

describe.each(MODEL_FAMILIES)('a model of family %s that answers exactly what it is asked', (family) => {
  it.each(FRAMES)('scores R_loc 1 in training and IoU 1 in the held-out and `differad eval` evaluations, frame %s', async (frame) => {
    const { results, sent, trained, heldOut } = await trainOnce(family, frame);
    for (const r of results) expect(r.scored.locRewards, `${r.pairId}: ${r.sampled.completions[0]!.text}`).toEqual([1, 1]);
    for (const r of results) expect(r.scored.ious).toEqual([1, 1]);
    // The trainer is told exactly what the server was asked.
    expect(trained.map((g) => g.messages)).toEqual(sent.map((s) => toIndexedMessages(s.messages)));
    expect(heldOut).toMatchObject({ eval_n: 2, eval_acc: 1, eval_miou: 1 });

    const out = join(dir, `eval-${family}-${frame}`);
    const evaluated = await runCaptured([
      'eval',
      '--manifest',
      manifest,
      '--out',
      out,
      '--endpoint',
      model.url,
      '--model',
      model.model,
      '--family',
      family,
      '--frame',
      frame,
      '--json',
    ]);
    expect(evaluated.code, evaluated.err).toBe(0);
    const scores = (await readFile(join(out, 'scores.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; iou: number; box_iou: number });
    // `iou` is the evaluation IoU u (1 for an empty answer to a normal pair); `box_iou` the boxes' own.
    expect(scores.map((s) => [s.id, s.iou])).toEqual(PAIRS.map((p) => [p.id, 1]));
    expect(scores.find((s) => s.id === 'scratch')!.box_iou).toBe(1);
  });
});

describe("the run's prompt pool", () => {
  it('replaces the instructions of training rollouts and of the held-out evaluation', async () => {
    const pool = join(dir, 'pool.json');
    await writeFile(pool, JSON.stringify(['Box the defect of the second image.', 'Where does the target differ?']));
    const before = model.requests.length;
    const { results } = await trainOnce('qwen2.5-vl', 'resized-pixels', { pool });
    const asked = model.requests.slice(before).map((r) => toIndexedMessages(r.messages));
    expect(asked).toHaveLength(2 * PAIRS.length);
    for (const messages of asked) {
      expect(messages[0]!.content).toContain('(728×532)');
      expect(['Box the defect of the second image.', 'Where does the target differ?']).toContainEqual(
        (messages[1]!.content as { text?: string }[])[2]!.text,
      );
    }
    for (const r of results) expect(r.scored.locRewards).toEqual([1, 1]);
  });
});
