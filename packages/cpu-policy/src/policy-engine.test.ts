import { computeIou, computePolicyLogProb, DEFAULT_CPU_POLICY, parseAnswer, parsePolicySample, toModelFrame } from '@differad/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { answerPairRequest, computeAnomalyMap } from './policy-engine.js';
import { createDefectPair } from './testing/policy-pairs.js';

let pair: Awaited<ReturnType<typeof createDefectPair>>;
beforeAll(async () => {
  pair = await createDefectPair();
});

const ask = (over: Partial<Parameters<typeof answerPairRequest>[1]> = {}) =>
  answerPairRequest(DEFAULT_CPU_POLICY, {
    referenceImage: pair.reference,
    targetImage: pair.target,
    n: 1,
    seed: 1,
    temperature: 0,
    ...over,
  });

describe('answerPairRequest', () => {
  it('boxes a drawn defect at temperature 0, in norm1000', async () => {
    const [answer] = await ask();
    const parsed = parseAnswer(answer!.text, 'differad');
    expect(parsed.kind).toBe('box');
    const truth = toModelFrame(pair.box, 'norm1000', { width: 160, height: 120 });
    expect(computeIou(parsed.kind === 'box' ? parsed.box : [0, 0, 0, 0], truth)).toBeGreaterThan(0.7);
    // Temperature 0 uses the means and has no density to report.
    expect(answer!.sample).toEqual({ threshold: 0.16, blur: 1.5, min_area: -3.3, tolerance: 1, pad: 0 });
    expect(answer!.logprob).toBe(0);
  });

  it('answers with a wider box as the pad grows, and reads a policy without tolerance and pad as tight and strict', async () => {
    const boxOf = async (policy: typeof DEFAULT_CPU_POLICY) => {
      const [answer] = await answerPairRequest(policy, {
        referenceImage: pair.reference,
        targetImage: pair.target,
        n: 1,
        seed: 1,
        temperature: 0,
      });
      const parsed = parseAnswer(answer!.text, 'differad');
      return parsed.kind === 'box' ? parsed.box : null;
    };
    const tight = (await boxOf(DEFAULT_CPU_POLICY))!;
    const padded = (await boxOf({
      ...DEFAULT_CPU_POLICY,
      params: { ...DEFAULT_CPU_POLICY.params, pad: { ...DEFAULT_CPU_POLICY.params.pad!, mean: 5 } },
    }))!;
    expect(padded[0]).toBeLessThan(tight[0]);
    expect(padded[2]).toBeGreaterThan(tight[2]);
    const older = Object.fromEntries(Object.entries(DEFAULT_CPU_POLICY.params).filter(([k]) => k !== 'tolerance' && k !== 'pad'));
    const [answer] = await answerPairRequest(
      { version: 0, params: older },
      { referenceImage: pair.reference, targetImage: pair.target, n: 1, seed: 1, temperature: 0 },
    );
    expect(answer!.sample).toEqual({ threshold: 0.16, blur: 1.5, min_area: -3.3 });
    expect(parseAnswer(answer!.text, 'differad').kind).toBe('box');
  });

  it('answers the empty box for identical images', async () => {
    const answers = await ask({ targetImage: pair.reference, n: 3, temperature: 1 });
    for (const a of answers) {
      expect(a.text).toMatch(/<answer>\(0,0\),\(0,0\)<\/answer>$/);
      expect(parseAnswer(a.text, 'differad').kind).toBe('empty');
    }
  });

  it('gives the same texts for the same seed and different ones for another seed', async () => {
    const a = await ask({ n: 4, seed: 7, temperature: 1 });
    const b = await ask({ n: 4, seed: 7, temperature: 1 });
    const c = await ask({ n: 4, seed: 8, temperature: 1 });
    expect(b.map((x) => x.text)).toEqual(a.map((x) => x.text));
    expect(c.map((x) => x.text)).not.toEqual(a.map((x) => x.text));
    expect(new Set(a.map((x) => x.text)).size).toBe(4);
  });

  it('writes the sampled parameters in <think> and reports their log-probability at the request temperature', async () => {
    for (const temperature of [0.5, 1, 1.3]) {
      const answers = await ask({ n: 3, seed: 3, temperature });
      for (const a of answers) {
        const think = /<think>(.*)<\/think>/s.exec(a.text)?.[1] ?? '';
        const read = parsePolicySample(think, DEFAULT_CPU_POLICY);
        expect(read).toEqual(a.sample);
        expect(a.logprob).toBeCloseTo(computePolicyLogProb(DEFAULT_CPU_POLICY, read!, temperature), 12);
      }
    }
  });
});

describe('computeAnomalyMap', () => {
  it('is zero for identical images and peaks on the defect, at the working size', async () => {
    const flat = await computeAnomalyMap(DEFAULT_CPU_POLICY, pair.reference, pair.reference);
    expect(flat).toMatchObject({ width: 160, height: 120, shift: [0, 0] });
    expect(flat.map).toHaveLength(160 * 120);
    expect(Math.max(...flat.map)).toBe(0);
    const map = await computeAnomalyMap(DEFAULT_CPU_POLICY, pair.reference, pair.target);
    let at = 0;
    map.map.forEach((v, i) => (v > map.map[at]! ? (at = i) : 0));
    const [x, y] = [at % map.width, Math.floor(at / map.width)];
    expect(x).toBeGreaterThanOrEqual(60);
    expect(x).toBeLessThan(92);
    expect(y).toBeGreaterThanOrEqual(40);
    expect(y).toBeLessThan(68);
    expect(map.map.every((v) => Math.round(v * 1e4) / 1e4 === v)).toBe(true);
  });
});
