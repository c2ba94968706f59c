/**
 * The inference port's contract: what differad relies on from an
 * OpenAI-compatible vLLM server, checked through the real fleet client. Run
 * against the fake (always) and a live vLLM (when DIFFERAD_LIVE_VLLM_URL is
 * set), so the fake cannot drift from the real thing.
 */
import { isDifferadError } from '@differad/core';
import {
  type CompletionRequest,
  compactLogprobEntries,
  createFleet,
  createVllmControl,
  type Fleet,
  readVllmLoad,
  toChatRequestBody,
  type VllmControl,
} from '@differad/inference';
import type * as Vitest from 'vitest';
import { createPngDataUrl } from '../images/png-data-url.js';
import { defineVllmProtocolTests } from './vllm-protocol-contract.js';

/** The test functions the suite registers with: pass `import * as vitest from 'vitest'` (the package itself never loads vitest). */
export type InferenceContractTestApi = Pick<typeof Vitest, 'describe' | 'it' | 'expect' | 'beforeAll' | 'afterAll'>;

/** A server under test. */
export interface InferenceContractServer {
  readonly url: string;
  readonly model: string;
  /** Weights the server can reload (`collective_rpc reload_weights`): every server under test names some. */
  readonly weightsPath: string;
  close(): Promise<void>;
}

/** Settings of a server under test. */
export interface InferenceContractOptions {
  /** Deadline per request and per test, ms (default 10 000; more for slow GPU servers). */
  readonly timeoutMs?: number;
  /**
   * What the per-token log-probs are: `probability` (default; a language
   * model's token log-probs, never above 0) or `density` (the built-in CPU
   * policy, whose completions carry the log-density of continuous sampled
   * parameters, which can exceed 0; only finiteness is checked).
   */
  readonly logprobs?: 'probability' | 'density';
  /** Run the last test, which leaves the engine dead (default false: never against a shared server). */
  readonly killable?: boolean;
}

/** A 64×64 reference and a target with a 12×12 patch: valid PNGs any vision model decodes. */
export function createContractPair(): { referenceImage: string; targetImage: string } {
  return {
    referenceImage: createPngDataUrl({ width: 64, height: 64, color: [180, 180, 170] }),
    targetImage: createPngDataUrl({ width: 64, height: 64, color: [180, 180, 170], patch: [20, 24, 32, 36], patchColor: [40, 30, 30] }),
  };
}

/** Registers the contract tests for the server `factory` starts. */
export function defineInferenceContract(
  t: InferenceContractTestApi,
  name: string,
  factory: () => Promise<InferenceContractServer>,
  settings: InferenceContractOptions = {},
): void {
  const { describe, it, expect, beforeAll, afterAll } = t;
  const options = { timeoutMs: settings.timeoutMs ?? 10_000, logprobs: settings.logprobs ?? 'probability' };
  describe(`inference contract: ${name}`, { timeout: options.timeoutMs }, () => {
    let server: InferenceContractServer;
    let fleet: Fleet;
    let control: VllmControl;
    const pair = createContractPair();
    const request = (over: Partial<CompletionRequest> = {}): CompletionRequest => ({
      ...pair,
      system: 'Answer with <think>…</think><answer>(x1,y1),(x2,y2)</answer>.',
      prompt: 'Compare the target with the reference and box the anomaly.',
      n: 2,
      seed: 11,
      sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 48 },
      ...over,
    });

    beforeAll(async () => {
      server = await factory();
      fleet = createFleet({
        servers: [server.url],
        model: server.model,
        timeoutMs: options.timeoutMs,
        maxAttempts: 1,
        metricsIntervalMs: 0,
      });
      control = createVllmControl({ url: server.url, timeoutMs: options.timeoutMs });
      await fleet.start();
    }, options.timeoutMs);

    afterAll(async () => {
      await fleet?.close();
      await control?.close();
      await server?.close();
    });

    it('is healthy and lists the served model', async () => {
      expect(fleet.stats().servers[0]!.ejected).toBe(false);
      const models = await control.listModels();
      expect(models.map((m) => m.id)).toContain(server.model);
    });

    it('publishes the vLLM load gauges on /metrics', async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const load = readVllmLoad(text, server.model);
      expect(load).toEqual({ running: expect.any(Number), waiting: expect.any(Number) });
      expect(load!.running).toBeGreaterThanOrEqual(0);
      expect(load!.waiting).toBeGreaterThanOrEqual(0);
    });

    it('returns n completions with token ids, one log-prob per token and the prompt token ids', async () => {
      const result = await fleet.complete(request({ n: 3 }));
      expect(result.completions.map((c) => c.index)).toEqual([0, 1, 2]);
      expect(result.promptTokenIds!.length).toBeGreaterThan(0);
      for (const c of result.completions) {
        expect(['stop', 'length']).toContain(c.finishReason);
        expect(c.tokenIds!.length).toBeGreaterThan(0);
        expect(c.logprobs).toHaveLength(c.tokenIds!.length);
        for (const lp of c.logprobs!) {
          expect(Number.isFinite(lp)).toBe(true);
          if (options.logprobs === 'probability') expect(lp).toBeLessThanOrEqual(0);
        }
      }
      expect(result.usage!.completionTokens).toBe(result.completions.reduce((a, c) => a + c.tokenIds!.length, 0));
    });

    it('writes every log-prob entry in the form the fleet reads without parsing it (token, logprob, bytes, top_logprobs, compact)', async () => {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(toChatRequestBody(server.model, request({ n: 2 }))),
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const body = JSON.parse(text) as { choices: { logprobs: { content: unknown[] } }[] };
      const entries = body.choices.reduce((a, c) => a + c.logprobs.content.length, 0);
      expect(entries).toBeGreaterThan(0);
      expect(compactLogprobEntries(text).entries).toBe(entries);
    });

    it('stops at max_tokens with finish_reason "length"', async () => {
      const result = await fleet.complete(request({ n: 1, sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 3 } }));
      const [c] = result.completions;
      expect(c!.tokenIds!.length).toBeLessThanOrEqual(3);
      if (c!.tokenIds!.length === 3) expect(c!.finishReason).toBe('length');
    });

    it('answers requests whose ids are any text (non-ASCII, control characters, 300 characters), counting no failure', async () => {
      const ids = ['缺陷-0001', 'id with\nnewline', '🔥🐛 50%~', 'é'.repeat(300)];
      const results = await Promise.all(ids.map((requestId) => fleet.complete(request({ requestId, n: 1 }))));
      expect(results.map((r) => [r.requestId, r.completions.length])).toEqual(ids.map((id) => [id, 1]));
      expect(fleet.stats().servers[0]).toMatchObject({ failures: 0, ejected: false });
    });

    it('rejects an unknown model with 404, not retried', async () => {
      const other = createFleet({
        servers: [server.url],
        model: `${server.model}-missing`,
        timeoutMs: options.timeoutMs,
        metricsIntervalMs: 0,
      });
      try {
        const error = await other.complete(request({ n: 1 })).catch((e: unknown) => e);
        expect(isDifferadError(error, 'INFERENCE_HTTP_ERROR')).toBe(true);
        expect((error as { details: { status: number } }).details.status).toBe(404);
        expect(other.stats().servers[0]).toMatchObject({ completed: 0, failures: 1, consecutiveFailures: 0, ejected: false });
      } finally {
        await other.close();
      }
    });

    defineVllmProtocolTests(t, {
      server: () => server,
      fleet: () => fleet,
      request: () => request({ n: 1, sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 16 } }),
      killable: settings.killable ?? false,
    });
  });
}
