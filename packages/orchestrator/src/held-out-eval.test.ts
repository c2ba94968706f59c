import { DEFAULT_SCORE_SETTINGS, type ImageSize, type ManifestRecord, toPairPrompt } from '@differad/core';
import type { FramePreparer } from '@differad/images';
import type { CompletionRequest, Fleet } from '@differad/inference';
import { describe, expect, it } from 'vitest';
import { createHeldOutEvaluator } from './held-out-eval.js';

const RECORD: ManifestRecord = {
  id: 'half',
  class: 'c',
  reference: 'r.png',
  target: 't.png',
  width: 200,
  height: 200,
  box: [0, 0, 100, 100],
};
const SENT = { width: 196, height: 196 };

/** A preparer that "sends" the target at 196×196 without touching a file. */
const preparer = {
  preparePair: async () => ({
    reference: { dataUrl: 'data:image/png;base64,AA==', ...SENT },
    target: { dataUrl: 'data:image/png;base64,AQ==', ...SENT },
  }),
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

describe("the held-out evaluation's requests", () => {
  const records = Array.from({ length: 5 }, (_, i): ManifestRecord => ({ ...RECORD, id: `p${i}` }));

  it('keeps at most `concurrency` requests in flight, asks once per pair and hands the whole report to onReport', async () => {
    let inFlight = 0;
    let peak = 0;
    const asked: string[] = [];
    const reports: [number, number][] = [];
    const fleet = {
      complete: async (request: CompletionRequest) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        asked.push(request.requestId ?? '');
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return { completions: [{ text: '<think>x</think><answer>(0,0),(500,1000)</answer>' }] };
      },
    } as unknown as Fleet;
    const evaluate = createHeldOutEvaluator({
      records,
      resolvePath: (p) => p,
      preparer,
      fleet,
      seed: 7,
      maxTokens: 64,
      concurrency: 2,
      prompt: (id, size, seed) => toPairPrompt({ family: 'differad', frame: 'norm1000', size, id, seed }),
      score: DEFAULT_SCORE_SETTINGS,
      onReport: async (step, report) => void reports.push([step, report.overall.n]),
    });
    expect(await evaluate(3)).toMatchObject({ eval_n: 5, eval_miou: 0.5 });
    expect(peak).toBe(2);
    expect(asked.sort()).toEqual(['eval-s3-0', 'eval-s3-1', 'eval-s3-2', 'eval-s3-3', 'eval-s3-4']);
    expect(reports).toEqual([[3, 5]]);
  });

  it('fails with the first failed request, starts no request after it and reports nothing', async () => {
    const asked: string[] = [];
    let reported = false;
    const fleet = {
      complete: async (request: CompletionRequest) => {
        asked.push(request.requestId ?? '');
        if (asked.length === 2) throw new Error('server down');
        return { completions: [{ text: '' }] };
      },
    } as unknown as Fleet;
    const evaluate = createHeldOutEvaluator({
      records,
      resolvePath: (p) => p,
      preparer,
      fleet,
      seed: 7,
      maxTokens: 64,
      concurrency: 1,
      prompt: (id, size, seed) => toPairPrompt({ family: 'differad', frame: 'norm1000', size, id, seed }),
      score: DEFAULT_SCORE_SETTINGS,
      onReport: async () => void (reported = true),
    });
    await expect(evaluate(0)).rejects.toThrow('server down');
    expect(asked).toEqual(['eval-s0-0', 'eval-s0-1']);
    expect(reported).toBe(false);
  });
});
