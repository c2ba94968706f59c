import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';
import { TrainConfigSchema } from './train-config.js';

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'differad-train-config-')), 'train.yaml');
  writeFileSync(file, text);
  return file;
}

describe('the training config', () => {
  it('fills the method defaults around a minimal file', () => {
    const config = loadConfig({ file: yamlFile('data:\n  train: data/train.jsonl\n') }, TrainConfigSchema);
    expect(config.policy).toEqual({ kind: 'cpu', servers: 2 });
    expect(config.trainer).toEqual({ kind: 'cpu' });
    expect(config.run.steps).toBe(30);
    expect(config.grpo.groupSize).toBe(8);
    expect(config.reward.variant).toBe('dclr');
  });

  it('reads endpoints, env overrides and flags', () => {
    const file = yamlFile(
      'data: { train: t.jsonl, eval: e.jsonl }\npolicy: { kind: endpoints, endpoints: ["http://10.0.0.5:8000"], model: Qwen/Qwen2-VL-2B-Instruct, family: qwen2-vl }\ntrainer: { kind: url, url: "http://trainer:8200" }\n',
    );
    const config = loadConfig({ file, env: { DIFFERAD_RUN_STEPS: '5', DIFFERAD_OPTIM_LR: '0.01' }, flags: { grpo: { maxResamples: 0 } } }, TrainConfigSchema);
    expect(config.policy).toMatchObject({ kind: 'endpoints', family: 'qwen2-vl', frame: 'norm1000' });
    expect(config.run.steps).toBe(5);
    expect(config.optim.lr).toBe(0.01);
    expect(config.grpo.maxResamples).toBe(0);
  });

  it('names the wrong field of a bad file', () => {
    const file = yamlFile('data: { train: t.jsonl }\npolicy: { kind: gpu }\nrun: { steps: 0 }\n');
    expect(() => loadConfig({ file }, TrainConfigSchema)).toThrow(/policy\.kind[\s\S]*run\.steps|run\.steps[\s\S]*policy/);
    expect(() => loadConfig({ file: yamlFile('run: { steps: 3 }\n') }, TrainConfigSchema)).toThrow(/data/);
  });
});
