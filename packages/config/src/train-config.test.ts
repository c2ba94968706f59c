import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    expect(config.policy).toEqual({ kind: 'cpu', servers: 2, requestTimeoutMs: 120_000, minServers: 1 });
    expect(config.trainer).toEqual({ kind: 'cpu' });
    expect(config.run.steps).toBe(30);
    expect(config.grpo.groupSize).toBe(8);
    expect(config.grpo.maxStaleness).toBe(0);
    expect(config.reward.variant).toBe('dclr');
  });

  it('has documented deadlines: request timeout 120 s, job lock 5 s, Redis grace 10 s, each settable and bounded', () => {
    const config = loadConfig({ file: yamlFile('data:\n  train: t.jsonl\n') }, TrainConfigSchema);
    expect(config.run).toMatchObject({ lockMs: 5_000, redisGraceMs: 10_000 });
    const set = loadConfig(
      {
        file: yamlFile(
          'data: { train: t.jsonl }\nrun: { lockMs: 2000, redisGraceMs: 3000 }\npolicy: { kind: endpoints, endpoints: ["http://h:8000"], model: m, requestTimeoutMs: 1000 }\n',
        ),
      },
      TrainConfigSchema,
    );
    expect(set.run).toMatchObject({ lockMs: 2_000, redisGraceMs: 3_000 });
    expect(set.policy).toMatchObject({ requestTimeoutMs: 1_000 });
    expect(() => loadConfig({ file: yamlFile('data: { train: t.jsonl }\nrun: { lockMs: 10 }\n') }, TrainConfigSchema)).toThrow(
      /run\.lockMs/,
    );
  });

  it('reads endpoints, env overrides and flags', () => {
    const file = yamlFile(
      'data: { train: t.jsonl, eval: e.jsonl }\npolicy: { kind: endpoints, endpoints: ["http://10.0.0.5:8000"], model: Qwen/Qwen2-VL-2B-Instruct, family: qwen2-vl }\ntrainer: { kind: url, url: "http://trainer:8200" }\n',
    );
    const config = loadConfig(
      { file, env: { DIFFERAD_RUN_STEPS: '5', DIFFERAD_OPTIM_LR: '0.01' }, flags: { grpo: { maxResamples: 0 } } },
      TrainConfigSchema,
    );
    expect(config.policy).toMatchObject({ kind: 'endpoints', family: 'qwen2-vl', frame: 'norm1000' });
    expect(config.run.steps).toBe(5);
    expect(config.optim.lr).toBe(0.01);
    expect(config.grpo.maxResamples).toBe(0);
  });

  it('defaults the learning rate and gradient clipping by trainer kind, keeping what is set', () => {
    const cpu = loadConfig({ file: yamlFile('data: { train: t.jsonl }\n') }, TrainConfigSchema);
    expect(cpu.optim).toEqual({ lr: 0.01, maxGradNorm: null, microBatchGroups: 4 });
    const gpu = yamlFile('data: { train: t.jsonl }\ntrainer: { kind: url, url: "http://trainer:8200" }\n');
    expect(loadConfig({ file: gpu }, TrainConfigSchema).optim).toEqual({ lr: 1e-6, maxGradNorm: 1, microBatchGroups: 4 });
    const set = loadConfig({ file: gpu, env: { DIFFERAD_OPTIM_LR: '2e-6', DIFFERAD_OPTIM_MAX_GRAD_NORM: 'null' } }, TrainConfigSchema);
    expect(set.optim).toEqual({ lr: 2e-6, maxGradNorm: null, microBatchGroups: 4 });
    const clipped = yamlFile('data: { train: t.jsonl }\noptim: { maxGradNorm: 0.5 }\n');
    expect(loadConfig({ file: clipped }, TrainConfigSchema).optim).toMatchObject({ lr: 0.01, maxGradNorm: 0.5 });
    // The stored config is parsed again by every worker and --resume: the filled values stay.
    expect(TrainConfigSchema.parse(JSON.parse(JSON.stringify(set))).optim).toEqual(set.optim);
  });

  it("keeps the demo config's optimizer settings explicit", () => {
    const demo = fileURLToPath(new URL('../../../examples/cpu-demo.yaml', import.meta.url));
    const text = readFileSync(demo, 'utf8');
    expect(text).toMatch(/^ {2}lr: 0\.02$/m);
    expect(text).toMatch(/^ {2}maxGradNorm: null/m);
    expect(loadConfig({ file: demo }, TrainConfigSchema).optim).toEqual({ lr: 0.02, maxGradNorm: null, microBatchGroups: 4 });
  });

  it('names the wrong field of a bad file', () => {
    const file = yamlFile('data: { train: t.jsonl }\npolicy: { kind: gpu }\nrun: { steps: 0 }\n');
    expect(() => loadConfig({ file }, TrainConfigSchema)).toThrow(/policy\.kind[\s\S]*run\.steps|run\.steps[\s\S]*policy/);
    expect(() => loadConfig({ file: yamlFile('run: { steps: 3 }\n') }, TrainConfigSchema)).toThrow(/data/);
  });
});
