import { DEFAULT_SCORE_SETTINGS, type ImageSize, type ManifestRecord, toPairPrompt } from '@differad/core';
import type { FramePreparer } from '@differad/images';
import type { CompletionRequest, Fleet } from '@differad/inference';
import { describe, expect, it } from 'vitest';
import { createHeldOutEvaluator } from './held-out-eval.js';

const RECORD: ManifestRecord = { id: 'half', class: 'c', reference: 'r.png', target: 't.png', width: 200, height: 200, box: [0, 0, 100, 100] };
const SENT = { width: 196, height: 196 };

/** A preparer that "sends" the target at 196×196 without touching a file. */
const preparer = {
  preparePair: async () => ({ reference: { dataUrl: 'data:image/png;base64,AA==', ...SENT }, target: { dataUrl: 'data:image/png;base64,AQ==', ...SENT } }),
} as unknown as FramePreparer;

/** A fleet whose model always answers the left half of the target: IoU 0.5 with the ground truth. */
function createHalfFleet(asked: CompletionRequest[]): Fleet {
  return {
    complete: async (request: CompletionRequest) => {
      asked.push(request);
      return { completions: [{ text: '<think>left half</think><answer>(0,0),(500,1000)</answer>' }] };
    },
  } as unknown as Fleet;
}

function evaluatorAt(tau: number, asked: CompletionRequest[], sizes: ImageSize[]) {
  return createHeldOutEvaluator({
    records: [RECORD],
    resolvePath: (p) => p,
    preparer,
    fleet: createHalfFleet(asked),
    prompt: (id, size, seed) => {
      sizes.push(size);
      return toPairPrompt({ family: 'differad', frame: 'norm1000', size, id, seed });
    },
    seed: 7,
    score: { ...DEFAULT_SCORE_SETTINGS, reward: { ...DEFAULT_SCORE_SETTINGS.reward, tau } },
    maxTokens: 64,
  });
}

describe('the held-out evaluation during training', () => {
  it('counts a hit at the configured τ, not at a fixed 0.3', async () => {
    const asked: CompletionRequest[] = [];
    const sizes: ImageSize[] = [];
    const loose = await evaluatorAt(0.3, asked, sizes)(0);
    const strict = await evaluatorAt(0.6, asked, sizes)(0);
    expect(loose).toMatchObject({ eval_n: 1, eval_acc: 1, eval_f1: 1, eval_miou: 0.5 });
    expect(strict).toMatchObject({ eval_n: 1, eval_acc: 0, eval_f1: 0, eval_miou: 0.5 });
  });

  it("asks with the run's prompt for the target as sent, the same at every evaluation, greedily", async () => {
    const asked: CompletionRequest[] = [];
    const sizes: ImageSize[] = [];
    const evaluate = evaluatorAt(0.5, asked, sizes);
    await evaluate(0);
    await evaluate(10);
    expect(sizes).toMatchObject([SENT, SENT]);
    const expected = toPairPrompt({ family: 'differad', frame: 'norm1000', size: SENT, id: 'half', seed: 7 });
    expect(asked.map((r) => [r.system, r.prompt])).toEqual([
      [expected.system, expected.prompt],
      [expected.system, expected.prompt],
    ]);
    expect(asked[0]).toMatchObject({ n: 1, sampling: { temperature: 0, topP: 1, topK: -1, maxTokens: 64 } });
  });
});
