import { DEFAULT_RESIZE, INSTRUCTION_POOL } from '@differad/core';
import { describe, expect, it } from 'vitest';
import {
  compareEvalRunSettings,
  decideEvalStart,
  type EvalFolderState,
  type EvalRunInput,
  type EvalRunRecord,
  formatEvalStartRefusal,
  toEvalRunSettings,
} from './eval-run-record.js';

const input: EvalRunInput = {
  backend: 'endpoint',
  model: 'm',
  family: 'differad',
  frame: 'norm1000',
  manifestPath: '/data/manifest.jsonl',
  manifestSha256: 'a'.repeat(64),
  pool: undefined,
  seed: 0,
  maxTokens: 256,
  resize: DEFAULT_RESIZE,
};
const settings = toEvalRunSettings(input);
const record = (over: Partial<EvalRunInput> = {}, context: Record<string, unknown> = {}): EvalRunRecord => ({
  format: 1,
  created: '2025-01-01T00:00:00.000Z',
  settings: toEvalRunSettings({ ...input, ...over }),
  context,
});
const found = (r: EvalRunRecord): EvalFolderState => ({ record: { kind: 'found', record: r }, hasAnswers: true });

describe('toEvalRunSettings', () => {
  it('records what fixes each request: backend, model, answer format, manifest, prompts, seed and greedy sampling', () => {
    expect(settings).toMatchObject({
      backend: 'endpoint',
      model: 'm',
      family: 'differad',
      frame: 'norm1000',
      manifest: '/data/manifest.jsonl',
      manifest_sha256: 'a'.repeat(64),
      seed: 0,
      n: 1,
      temperature: 0,
      top_p: 1,
      top_k: -1,
      max_tokens: 256,
      resize_factor: DEFAULT_RESIZE.factor,
      resize_max_pixels: DEFAULT_RESIZE.maxPixels,
    });
    expect(settings.prompts_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(settings.system_prompt_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('identifies the prompt pool and the system instruction by content', () => {
    expect(toEvalRunSettings({ ...input, pool: [...INSTRUCTION_POOL] }).prompts_sha256).toBe(settings.prompts_sha256);
    expect(toEvalRunSettings({ ...input, pool: ['Box the defect.'] }).prompts_sha256).not.toBe(settings.prompts_sha256);
    // qwen2.5-vl asks for another box notation: another system instruction.
    expect(toEvalRunSettings({ ...input, family: 'qwen2.5-vl' }).system_prompt_sha256).not.toBe(settings.system_prompt_sha256);
    expect(toEvalRunSettings({ ...input, frame: 'pixels' }).system_prompt_sha256).not.toBe(settings.system_prompt_sha256);
  });

  it('leaves the resize out in the pixels frame, where images are sent at their own size', () => {
    const pixels = (factor: number) => toEvalRunSettings({ ...input, frame: 'pixels', resize: { ...DEFAULT_RESIZE, factor } });
    expect(pixels(28)).toEqual(pixels(14));
    expect(pixels(28).resize_factor).toBeNull();
    expect(toEvalRunSettings({ ...input, resize: { ...DEFAULT_RESIZE, factor: 14 } }).resize_factor).toBe(14);
  });
});

describe('the policy file a CPU evaluation serves', () => {
  const cpu = { ...input, backend: 'policy cpu' as const, model: 'differad-cpu' };

  it('is recorded by its sha256 when one is served, and absent otherwise, so older records stay comparable key by key', () => {
    expect(toEvalRunSettings({ ...cpu, policySha256: 'b'.repeat(64) }).policy_sha256).toBe('b'.repeat(64));
    expect('policy_sha256' in toEvalRunSettings(cpu)).toBe(false);
    expect(decideEvalStart(found(record({ backend: 'policy cpu', model: 'differad-cpu' })), toEvalRunSettings(cpu), false)).toEqual({
      kind: 'resume',
    });
  });

  it('refuses to resume answers of another policy file, or of the default policy', () => {
    const trained = record({ backend: 'policy cpu', model: 'differad-cpu', policySha256: 'b'.repeat(64) });
    const other = decideEvalStart(found(trained), toEvalRunSettings({ ...cpu, policySha256: 'c'.repeat(64) }), false);
    expect(other).toEqual({ kind: 'mismatch', differences: [{ key: 'policy_sha256', recorded: 'b'.repeat(64), current: 'c'.repeat(64) }] });
    const fallback = decideEvalStart(found(trained), toEvalRunSettings(cpu), false);
    expect(fallback).toEqual({ kind: 'mismatch', differences: [{ key: 'policy_sha256', recorded: 'b'.repeat(64), current: undefined }] });
  });
});

describe('compareEvalRunSettings', () => {
  it('finds nothing between identical settings', () => {
    expect(compareEvalRunSettings(settings, toEvalRunSettings({ ...input }))).toEqual([]);
  });

  it('names each differing setting with its recorded and current value, current order first, then keys only recorded', () => {
    const current = toEvalRunSettings({ ...input, model: 'other', seed: 3 });
    expect(compareEvalRunSettings({ ...settings, gone: 1 }, { ...current, added: 'x' })).toEqual([
      { key: 'model', recorded: 'm', current: 'other' },
      { key: 'seed', recorded: 0, current: 3 },
      { key: 'added', recorded: undefined, current: 'x' },
      { key: 'gone', recorded: 1, current: undefined },
    ]);
  });

  it('compares values strictly: null is not a missing key, "1" is not 1', () => {
    expect(compareEvalRunSettings({ a: null }, {})).toEqual([{ key: 'a', recorded: null, current: undefined }]);
    // A seed of -0 is written to JSON as 0.
    expect(compareEvalRunSettings({ a: 0 }, { a: -0 })).toEqual([]);
    expect(compareEvalRunSettings({ a: '1' }, { a: 1 })).toEqual([{ key: 'a', recorded: '1', current: 1 }]);
  });
});

describe('decideEvalStart', () => {
  it('resumes answers recorded with the same settings, whatever the context (servers, --limit) was', () => {
    expect(decideEvalStart(found(record({}, { endpoints: ['http://a:8000'], limit: 10 })), settings, false)).toEqual({ kind: 'resume' });
  });

  it('refuses answers of another model, manifest or seed, naming each difference', () => {
    expect(decideEvalStart(found(record({ model: 'other' })), settings, false)).toEqual({
      kind: 'mismatch',
      differences: [{ key: 'model', recorded: 'other', current: 'm' }],
    });
    const start = decideEvalStart(found(record({ manifestSha256: 'b'.repeat(64), seed: 1 })), settings, false);
    expect(start.kind === 'mismatch' && start.differences.map((d) => d.key)).toEqual(['manifest_sha256', 'seed']);
  });

  it('refuses answers without a usable record', () => {
    expect(decideEvalStart({ record: { kind: 'none' }, hasAnswers: true }, settings, false)).toMatchObject({
      kind: 'unrecorded',
      reason: expect.stringContaining('no eval-run.json'),
    });
    expect(decideEvalStart({ record: { kind: 'unreadable', reason: 'not JSON' }, hasAnswers: true }, settings, false)).toMatchObject({
      kind: 'unrecorded',
      reason: expect.stringContaining('not JSON'),
    });
  });

  it('starts fresh with --force, or when the folder holds no answer, whatever the record says', () => {
    for (const state of [found(record({ model: 'other' })), { record: { kind: 'none' }, hasAnswers: true } as const, found(record())]) {
      expect(decideEvalStart(state, settings, true)).toEqual({ kind: 'fresh' });
      expect(decideEvalStart({ ...state, hasAnswers: false }, settings, false)).toEqual({ kind: 'fresh' });
    }
  });
});

describe('formatEvalStartRefusal', () => {
  it('lists each difference as key: old → new and says how to go on', () => {
    const message = formatEvalStartRefusal(
      {
        kind: 'mismatch',
        differences: [
          { key: 'model', recorded: 'm', current: 'other' },
          { key: 'added', recorded: undefined, current: 2 },
        ],
      },
      '/runs/a',
    );
    expect(message).toContain('/runs/a holds answers made with other settings');
    expect(message).toContain('\n  model: "m" → "other"\n');
    expect(message).toContain('\n  added: (not recorded) → 2\n');
    expect(message).toMatch(/use a new --out, or --force .*predictions\.jsonl/);
  });

  it('says why unrecorded answers are not resumed', () => {
    const message = formatEvalStartRefusal({ kind: 'unrecorded', reason: 'there is no eval-run.json' }, '/runs/a');
    expect(message).toBe(
      "/runs/a holds answers (predictions.jsonl) but there is no eval-run.json, so they are not resumed; use a new --out, or --force to remove eval's files there (predictions.jsonl, scores.jsonl, metrics.json, report.html, eval-run.json) and start afresh",
    );
  });
});
