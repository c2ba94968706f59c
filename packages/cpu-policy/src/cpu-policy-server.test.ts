import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computePolicyLogProb, DEFAULT_CPU_POLICY, parseAnswer, parsePolicySample } from '@differad/core';
import { toChatRequestBody } from '@differad/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPU_POLICY_MODEL, CpuPolicyServer } from './cpu-policy-server.js';
import { createBoard, DEFECT_BOX, paintDefect, toPngDataUrl } from './testing/policy-pairs.js';

let server: CpuPolicyServer;
let dir: string;
let reference: string;
let target: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-cpu-policy-'));
  server = await CpuPolicyServer.start({ slots: 2 });
  const board = createBoard(160, 120);
  reference = await toPngDataUrl(board);
  target = await toPngDataUrl(paintDefect(board, DEFECT_BOX));
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const chatBody = (over: { model?: string; temperature?: number; n?: number; seed?: number } = {}) => ({
  ...toChatRequestBody(over.model ?? CPU_POLICY_MODEL, {
    referenceImage: reference,
    targetImage: target,
    prompt: 'Box the anomaly.',
    n: over.n ?? 1,
    seed: over.seed ?? 1,
    sampling: { temperature: over.temperature ?? 0, topP: 1, topK: -1, maxTokens: 256 },
  }),
});

async function post(path: string, body: unknown): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

type Choice = { message: { content: string }; logprobs: { content: { logprob: number }[] } | null };
const texts = (json: Record<string, unknown>) => (json.choices as Choice[]).map((c) => c.message.content);

describe('CpuPolicyServer over HTTP', () => {
  it('answers a pair with the differad format and the sample log-prob on the first token', async () => {
    const { status, headers, json } = await post('/v1/chat/completions', chatBody({ n: 3, temperature: 0.8, seed: 4 }));
    expect(status).toBe(200);
    expect(headers.get('x-weight-version')).toBe('0');
    for (const choice of json.choices as Choice[]) {
      expect(parseAnswer(choice.message.content, 'differad').kind).not.toBe('invalid');
      const sample = parsePolicySample(choice.message.content, DEFAULT_CPU_POLICY)!;
      expect(choice.logprobs!.content[0]!.logprob).toBeCloseTo(computePolicyLogProb(DEFAULT_CPU_POLICY, sample, 0.8), 12);
      expect(choice.logprobs!.content.slice(1).every((t) => t.logprob === 0)).toBe(true);
    }
    const again = await post('/v1/chat/completions', chatBody({ n: 3, temperature: 0.8, seed: 4 }));
    expect(texts(again.json)).toEqual(texts(json));
  });

  it('needs exactly two images and the served model name', async () => {
    const body = chatBody();
    const oneImage = { ...body, messages: [{ role: 'user', content: [body.messages[0]!.content[0], { type: 'text', text: 'box it' }] }] };
    const one = await post('/v1/chat/completions', oneImage);
    expect(one.status).toBe(400);
    expect(JSON.stringify(one.json)).toContain('exactly two images');
    const unknown = await post('/v1/chat/completions', chatBody({ model: 'gpt-nothing' }));
    expect(unknown.status).toBe(404);
    expect((unknown.json.error as { param: string }).param).toBe('model');
  });

  it('holds a request while paused and answers it after resume', async () => {
    expect((await post('/pause', {})).status).toBe(200);
    let settled = false;
    const pending = post('/v1/chat/completions', chatBody()).finally(() => (settled = true));
    // Wait until the server has the request queued (bounded: each scrape is a round trip).
    let waiting = 0;
    for (let k = 0; k < 500 && waiting === 0; k++) {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      waiting = Number(/vllm:num_requests_waiting\{[^}]*\} ([\d.]+)/.exec(text)?.[1] ?? 0);
    }
    expect(waiting).toBe(1);
    expect(settled).toBe(false);
    expect(((await (await fetch(`${server.url}/is_paused`)).json()) as { is_paused: boolean }).is_paused).toBe(true);
    expect((await post('/resume', {})).status).toBe(200);
    expect((await pending).status).toBe(200);
  });

  it('loads a policy file through collective_rpc reload_weights, refuses the old update_info {path}, and after a bad file answers again once a good one is loaded', async () => {
    const before = await post('/v1/chat/completions', chatBody());
    expect(parseAnswer(texts(before.json)[0]!, 'differad').kind).toBe('box');
    const blind = { version: 5, params: { ...DEFAULT_CPU_POLICY.params, threshold: { mean: 0.9, logStd: -3, min: 0.01, max: 0.95 } } };
    await writeFile(join(dir, 'blind.json'), JSON.stringify(blind));
    // vLLM 0.32.0 has no disk engine: update_weights {path} fails (500) on a server without a weight-transfer engine.
    const old = await post('/update_weights', { update_info: { path: join(dir, 'blind.json') } });
    expect(old.status).toBe(500);
    expect(JSON.stringify(old.json)).toContain('Weight transfer not configured');
    expect(server.currentPolicy.version).toBe(DEFAULT_CPU_POLICY.version);
    const reload = await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: join(dir, 'blind.json') } });
    expect(reload).toMatchObject({ status: 200, json: { results: [null] } });
    const after = await post('/v1/chat/completions', chatBody());
    expect(after.headers.get('x-weight-version')).toBe('5');
    expect(parseAnswer(texts(after.json)[0]!, 'differad').kind).toBe('empty');
    expect(texts(after.json)[0]).toContain('threshold=0.900000');

    await writeFile(join(dir, 'bad.json'), JSON.stringify({ version: 6, params: { threshold: blind.params.threshold } }));
    const bad = await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: join(dir, 'bad.json') } });
    expect(bad.status).toBe(500);
    expect(JSON.stringify(bad.json)).toContain('lacks the parameter(s) blur, min_area');
    expect((await post('/collective_rpc', { kwargs: {} })).status).toBe(400);
    expect(server.currentPolicy.version).toBe(5);
    // As vLLM 0.32.0 after a failed reload: a good reload before any request makes it whole (the inference contract checks the rest).
    expect((await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: join(dir, 'blind.json') } })).status).toBe(
      200,
    );
    const still = await post('/v1/chat/completions', chatBody());
    expect(still.headers.get('x-weight-version')).toBe('5');
    expect(texts(still.json)).toEqual(texts(after.json));
  });

  it('serves the anomaly map of a pair under the policy means', async () => {
    const { status, json } = await post('/v1/anomaly_map', { reference, target });
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toEqual(['height', 'map', 'shift', 'width']);
    expect(json).toMatchObject({ width: 160, height: 120, shift: [0, 0] });
    const map = json.map as number[];
    expect(map).toHaveLength(160 * 120);
    expect(map[50 * 160 + 75]).toBeGreaterThan(0.05);
    expect(map[5 * 160 + 5]).toBe(0);
    const missing = await post('/v1/anomaly_map', { reference });
    expect(missing.status).toBe(400);
    expect((missing.json.error as { param: string }).param).toBe('target');
    const broken = await post('/v1/anomaly_map', { reference, target: 'data:image/png;base64,AAAA' });
    expect(broken.status).toBe(400);
  });
});
