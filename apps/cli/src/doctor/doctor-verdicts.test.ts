import { describe, expect, it } from 'vitest';
import { formatDoctorTable, toDoctorJson } from './doctor-report.js';
import {
  AGREEMENT_TOLERANCE_NATS,
  computeLogprobGap,
  FIXES,
  isSameModel,
  judgeAgreement,
  judgeDevMode,
  judgeLogprobsMode,
  judgeServedModel,
  judgeServerVersion,
  judgeSync,
  judgeTrainer,
  judgeVersion,
  judgeWeightTransfer,
  judgeWorldSize,
  parseServedRoots,
  parseServerSettings,
  toDoctorExitCode,
  toSkipped,
} from './doctor-verdicts.js';

const U = 'http://gpu-1:8000';

describe('doctor verdicts: servers', () => {
  it('wants the pinned vLLM release and the configured model', () => {
    expect(judgeVersion(U, '0.32.0').status).toBe('pass');
    expect(judgeVersion(U, '0.11.2')).toMatchObject({ status: 'fail', fix: FIXES.version });
    expect(judgeServedModel(U, ['a', 'qwen'], 'qwen').status).toBe('pass');
    const wrong = judgeServedModel(U, ['Qwen/Qwen2.5-VL-7B-Instruct'], 'qwen');
    expect(wrong).toMatchObject({ status: 'fail', detail: 'serves Qwen/Qwen2.5-VL-7B-Instruct, not "qwen"' });
    expect(wrong.fix).toContain('--served-model-name qwen');
  });

  it('names dev mode for a 404 on a dev route, and not for another failure', () => {
    expect(judgeDevMode(U, null).status).toBe('pass');
    expect(judgeDevMode(U, { status: 404, message: 'HTTP 404' })).toMatchObject({ status: 'fail', fix: FIXES.devMode });
    expect(judgeDevMode(U, { status: 500, message: 'boom' })).toMatchObject({ status: 'fail', detail: 'boom' });
    expect(judgeDevMode(U, { status: 500, message: 'boom' }).fix).not.toBe(FIXES.devMode);
  });

  it('reads logprobs mode, weight-transfer backend and TP × PP × DP from /server_info JSON', () => {
    const json = {
      vllm_config: {
        model_config: { model: 'm', logprobs_mode: 'raw_logprobs', other: 1 },
        parallel_config: { tensor_parallel_size: 2, pipeline_parallel_size: 2, data_parallel_size: 3 },
        weight_transfer_config: { backend: 'nccl' },
      },
      vllm_env: {},
    };
    expect(parseServerSettings(json)).toEqual({ logprobsMode: 'raw_logprobs', weightTransferBackend: 'nccl', worldSize: 12 });
    expect(parseServerSettings({ vllm_config: { weight_transfer_config: null } })).toEqual({
      logprobsMode: null,
      weightTransferBackend: null,
      worldSize: null,
    });
    expect(parseServerSettings({ vllm_config: "model='m'" })).toBeNull();
  });

  it('wants processed log-probs, and the nccl engine only for syncBackend nccl', () => {
    expect(judgeLogprobsMode(U, 'processed_logprobs').status).toBe('pass');
    for (const mode of ['raw_logprobs', 'processed_logits', null])
      expect(judgeLogprobsMode(U, mode)).toMatchObject({ status: 'fail', fix: FIXES.logprobsMode });
    expect(judgeWeightTransfer(U, 'nccl', 'nccl').status).toBe('pass');
    expect(judgeWeightTransfer(U, 'nccl', null)).toMatchObject({ status: 'fail', fix: FIXES.weightTransfer });
    expect(judgeWeightTransfer(U, 'nccl', 'ipc').status).toBe('fail');
    expect(judgeWeightTransfer(U, 'disk', null).status).toBe('pass');
    expect(judgeWeightTransfer(U, 'none', 'nccl').status).toBe('pass');
    expect(FIXES.weightTransfer).toContain('--weight-transfer-config \'{"backend":"nccl"}\'');
  });

  it('compares /get_world_size with the parallel config when it is known', () => {
    expect(judgeWorldSize(U, 4, 4).status).toBe('pass');
    expect(judgeWorldSize(U, 4, null).status).toBe('pass');
    expect(judgeWorldSize(U, 1, 4).status).toBe('fail');
  });
});

describe('doctor verdicts: trainer, agreement, sync', () => {
  const health = { status: 'ok', backend: 'hf', model: 'Qwen/Qwen2.5-VL-7B-Instruct', world_size: 8, step: null, weight_version: 3 };

  it('wants a ready trainer training the served model', () => {
    expect(judgeTrainer('t', health, 'Qwen2.5-VL-7B-Instruct').map((r) => r.status)).toEqual(['pass', 'pass']);
    expect(judgeTrainer('t', { ...health, status: 'starting' }, null)).toEqual([
      expect.objectContaining({ status: 'fail', fix: FIXES.trainerStarting }),
    ]);
    expect(judgeTrainer('t', health, 'llava')[1]).toMatchObject({
      status: 'fail',
      detail: 'trains "Qwen/Qwen2.5-VL-7B-Instruct", the servers serve "llava"',
    });
    expect(judgeTrainer('t', health, null)[0]?.detail).toBe(
      'ok · hf · world size 8 · step — · weight version 3 · features none (completions go as JSON arrays)',
    );
    expect(judgeTrainer('t', { ...health, features: ['packed_completions'] }, null)[0]?.detail).toMatch(/· features packed_completions$/);
    expect(isSameModel('/models/qwen/', 'qwen')).toBe(true);
    expect(isSameModel('a/qwen-7b', 'qwen')).toBe(false);
  });

  it("takes a --served-model-name alias of the trainer's checkpoint: /v1/models' root is the path vLLM loaded", () => {
    // vLLM 0.32.0 (entrypoints/openai/models/serving.py): ModelCard(id=<served name>, root=<vllm serve model path>).
    const models = {
      object: 'list',
      data: [
        { id: 'policy', object: 'model', root: '/ckpt/617cafe70aa5', parent: null, max_model_len: 1024 },
        { id: 'lora-a', object: 'model', root: '/adapters/a', parent: 'policy' },
      ],
    };
    expect(parseServedRoots(models, 'policy')).toEqual(['/ckpt/617cafe70aa5']);
    expect(parseServedRoots({ data: [{ id: 'policy' }] }, 'policy')).toEqual([]);
    expect(parseServedRoots({ nothing: true }, 'policy')).toEqual([]);
    const local = { ...health, model: '/ckpt/617cafe70aa5' };
    expect(judgeTrainer('t', local, 'policy', ['/ckpt/617cafe70aa5'])[1]).toMatchObject({
      status: 'pass',
      detail: '/ckpt/617cafe70aa5 (served as "policy" from /ckpt/617cafe70aa5)',
    });
    expect(judgeTrainer('t', local, 'policy')[1]?.status).toBe('fail');
    expect(judgeTrainer('t', local, 'policy', ['/ckpt/other', '/ckpt/other'])[1]).toMatchObject({
      status: 'fail',
      detail: 'trains "/ckpt/617cafe70aa5", the servers serve "policy" from /ckpt/other',
    });
  });

  it('passes a mean gap per token within the tolerance and names the cause otherwise', () => {
    expect(computeLogprobGap([-1, -2, -0.5], [-1.03, -1.97, -0.5])).toEqual({
      mean: expect.closeTo(0.02, 9),
      max: expect.closeTo(0.03, 9),
    });
    const server = [-0.5, -1.2, -0.1, -2];
    const close = server.map((x) => x + AGREEMENT_TOLERANCE_NATS * 0.9);
    const far = server.map((x) => x / 0.9);
    expect(
      judgeAgreement(U, { serverLogprobs: server, trainerLogprobs: close, promptTokensMatch: true }, 'processed_logprobs').status,
    ).toBe('pass');
    expect(judgeAgreement(U, { serverLogprobs: server, trainerLogprobs: far, promptTokensMatch: true }, 'raw_logprobs')).toMatchObject({
      status: 'fail',
      fix: FIXES.logprobsMode,
    });
    expect(
      judgeAgreement(U, { serverLogprobs: server, trainerLogprobs: far, promptTokensMatch: null }, 'processed_logprobs'),
    ).toMatchObject({ status: 'fail', fix: FIXES.disagree });
    expect(
      judgeAgreement(U, { serverLogprobs: server, trainerLogprobs: close, promptTokensMatch: false }, 'processed_logprobs'),
    ).toMatchObject({ status: 'fail', fix: FIXES.prompt });
    expect(judgeAgreement(U, { serverLogprobs: server, trainerLogprobs: null, promptTokensMatch: null }, null)).toMatchObject({
      status: 'fail',
      fix: FIXES.unscorable,
    });
    expect(judgeAgreement(U, { serverLogprobs: server, trainerLogprobs: [-1], promptTokensMatch: null }, null).status).toBe('fail');
  });

  it("gives the backend's fix for a failed sync, and wants /weight_info to name the version", () => {
    expect(judgeSync('disk', 2, 3, null)).toMatchObject({ status: 'pass', target: 'trainer → 3 server(s)' });
    expect(judgeSync('disk', 2, 3, 'ENOENT')).toMatchObject({ status: 'fail', fix: FIXES.syncDisk });
    expect(judgeSync('nccl', 2, 3, 'timeout')).toMatchObject({ status: 'fail', fix: FIXES.syncNccl });
    expect(judgeServerVersion(U, 2, '2').status).toBe('pass');
    expect(judgeServerVersion(U, 2, null).status).toBe('fail');
  });
});

describe('doctor report', () => {
  it('exits 0 only without a failure, and prints the fix under each failing row', () => {
    const ok = [judgeVersion(U, '0.32.0'), toSkipped('weight sync', 'all', '--no-sync')];
    const bad = [...ok, judgeLogprobsMode(U, 'raw_logprobs')];
    expect(toDoctorExitCode(ok)).toBe(0);
    expect(toDoctorExitCode(bad)).toBe(2);
    const table = formatDoctorTable(bad);
    const lines = table.split('\n');
    const row = lines.findIndex((l) => l.startsWith('logprobs mode'));
    expect(lines[row]).toMatch(/^logprobs mode\s+http:\/\/gpu-1:8000\s+FAIL\s+raw_logprobs$/);
    expect(lines[row + 1]).toMatch(/^\s+fix: start vLLM with --logprobs-mode processed_logprobs/);
    expect(table).toContain('1 of 3 check(s) failed, 1 skipped');
    expect(formatDoctorTable(ok)).toContain('all 1 check(s) passed, 1 skipped');
    expect(toDoctorJson(bad)).toMatchObject({ ok: false, tolerance_nats: AGREEMENT_TOLERANCE_NATS, checks: bad });
  });
});
