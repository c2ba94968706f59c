import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REWARD_OPTIONS, isDifferadError } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { isFlagConfigError, listEnvNames, loadConfig } from './load-config.js';

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'differad-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('loadConfig', () => {
  it('returns the METHOD defaults when given nothing', () => {
    const config = loadConfig();
    expect(config.reward).toEqual(DEFAULT_REWARD_OPTIONS);
    expect(config.grpo.groupSize).toBe(8);
    expect(config.grpo.maxResamples).toBe(2);
    expect(config.grpo.onExhausted).toBe('keep');
    expect(config.grpo.advantage).toBe('unbiased');
    expect(config.sampling).toEqual({ temperature: 0.9, topP: 1, topK: -1, maxTokens: 256 });
    expect(config.resize).toEqual({ factor: 28, minPixels: 3136, maxPixels: 401408 });
  });

  it('merges flags over env over file over defaults', () => {
    const file = tempFile('c.yaml', 'reward:\n  alpha: 0.5\n  lambda: 0.4\n  tau: 0.2\ngrpo:\n  maxResamples: 1\n');
    const config = loadConfig({
      file,
      env: { DIFFERAD_REWARD_LAMBDA: '0.7', DIFFERAD_REWARD_TAU: '0.25', DIFFERAD_GRPO_ON_EXHAUSTED: 'replace' },
      flags: { reward: { tau: 0.35, alpha: undefined } },
    });
    expect(config.reward.alpha).toBe(0.5);
    expect(config.reward.lambda).toBe(0.7);
    expect(config.reward.tau).toBe(0.35);
    expect(config.grpo.maxResamples).toBe(1);
    expect(config.grpo.onExhausted).toBe('replace');
  });

  it('reads JSON files and env booleans', () => {
    const file = tempFile('c.json', JSON.stringify({ grpo: { difficultyWeighting: true } }));
    const config = loadConfig({ file, env: { DIFFERAD_GRPO_DIFFICULTY_WEIGHTING: 'false' } });
    expect(config.grpo.difficultyWeighting).toBe(false);
  });

  it('freezes the result', () => {
    const config = loadConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.reward)).toBe(true);
    expect(() => {
      (config.reward as { alpha: number }).alpha = 2;
    }).toThrow();
  });

  it('names the field, the allowed values and the source of a wrong value', () => {
    const error = errorOf(() => loadConfig({ env: { DIFFERAD_REWARD_VARIANT: 'dclr2' } }));
    expect(isDifferadError(error, 'CONFIG_INVALID')).toBe(true);
    expect(error.message).toContain('reward.variant');
    expect(error.message).toContain('"dclr-released"');
    expect(error.message).toContain('DIFFERAD_REWARD_VARIANT');
  });

  it('rejects out-of-range numbers and unknown keys from a file, naming the file', () => {
    const file = tempFile('bad.yaml', 'reward:\n  alpha: 1.5\n  alpah: 0.2\n');
    const error = errorOf(() => loadConfig({ file }));
    expect(error.message).toContain('reward.alpha');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/alpah/);
  });

  it('records where each wrong value came from, so that only flag values count as wrong usage', () => {
    const file = tempFile('c.yaml', 'reward:\n  alpha: 1.5\n');
    const fromAll = errorOf(() => loadConfig({ file, env: { DIFFERAD_REWARD_LAMBDA: '2' }, flags: { reward: { tau: 2 } } }));
    expect((fromAll as Error & { details: { issues: unknown[] } }).details.issues).toEqual([
      { path: 'reward.alpha', message: expect.any(String), source: 'file' },
      { path: 'reward.lambda', message: expect.any(String), source: 'env' },
      { path: 'reward.tau', message: expect.any(String), source: 'flag' },
    ]);
    expect(isFlagConfigError(fromAll)).toBe(false);
    expect(isFlagConfigError(errorOf(() => loadConfig({ flags: { reward: { tau: 2, kappa: -1 } } })))).toBe(true);
    expect(isFlagConfigError(errorOf(() => loadConfig({ file: tempFile('u.yaml', 'reward:\n  alpah: 0.2\n') })))).toBe(false);
    expect(isFlagConfigError(errorOf(() => loadConfig({ file: '/nonexistent/differad.yaml' })))).toBe(false);
  });

  it('rejects a number given as text in an env variable with the variable named', () => {
    const error = errorOf(() => loadConfig({ env: { DIFFERAD_GRPO_MAX_RESAMPLES: 'many' } }));
    expect(error.message).toContain('grpo.maxResamples');
    expect(error.message).toContain('DIFFERAD_GRPO_MAX_RESAMPLES');
  });

  it('says which file is unreadable or malformed', () => {
    expect(errorOf(() => loadConfig({ file: '/nonexistent/differad.yaml' })).code).toBe('CONFIG_FILE_UNREADABLE');
    const file = tempFile('broken.json', '{"reward": ');
    const error = errorOf(() => loadConfig({ file }));
    expect(error.code).toBe('CONFIG_FILE_INVALID');
    expect(error.message).toContain(file);
  });

  it('ignores env variables that belong to other units', () => {
    expect(() => loadConfig({ env: { DIFFERAD_REDIS_URL: 'redis://127.0.0.1:1', PATH: '/bin' } })).not.toThrow();
  });

  it('maps every config leaf to one DIFFERAD_ variable', () => {
    const names = listEnvNames();
    expect(names.get('DIFFERAD_GRPO_MAX_RESAMPLES')).toEqual(['grpo', 'maxResamples']);
    expect(names.get('DIFFERAD_SAMPLING_TOP_P')).toEqual(['sampling', 'topP']);
    expect(names.get('DIFFERAD_RESIZE_MAX_PIXELS')).toEqual(['resize', 'maxPixels']);
  });
});
