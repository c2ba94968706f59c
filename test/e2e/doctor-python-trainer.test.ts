/**
 * `differad doctor`'s log-prob agreement against the Python trainer (docker/trainer,
 * tiny backend: a real torch causal LM) through the real executable. The fake vLLM
 * samples tokens with the tiny backend's tokenization; a proxy in front of it
 * replaces the fake's random log-probs with the tiny model's own, scored at the
 * request's temperature (what vLLM's processed_logprobs reports) or at T = 1 (what
 * raw_logprobs reports, while /server_info still says processed): the first must
 * agree within the tolerance, the second must not, and the fake's own log-probs
 * (another model) must not either.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@differad/http-server';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { type ChatMessage, createTrainerClient, type TrainerImage } from '@differad/trainer-client';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonTrainerMissing, startPythonTrainer } from './python-trainer.js';
import { runCli } from './run-cli.js';

const missing = pythonTrainerMissing();
const TINY_MODEL = 'tiny-causal-lm';

interface Row {
  check: string;
  target: string;
  status: string;
  detail: string;
  fix: string | null;
}

type OpenAiPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** The chat request's messages as the trainer takes them: images by index, their bytes alongside. */
function toTrainerPrompt(messages: { role: ChatMessage['role']; content: string | OpenAiPart[] }[]): {
  images: TrainerImage[];
  messages: ChatMessage[];
} {
  const images: TrainerImage[] = [];
  const out = messages.map((m) => ({
    role: m.role,
    content:
      typeof m.content === 'string'
        ? m.content
        : m.content.map((p) => {
            if (p.type === 'text') return p;
            const data = p.image_url.url.slice(p.image_url.url.indexOf(',') + 1);
            images.push({ sha256: createHash('sha256').update(Buffer.from(data, 'base64')).digest('hex'), data });
            return { type: 'image' as const, image: images.length - 1 };
          }),
  }));
  return { images, messages: out };
}

/** A running proxy; close() also closes its trainer client. */
interface ScoringProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** Forwards everything to `fake`; chat log-probs are replaced with the trainer's at `temperature` (null: the request's). */
async function startScoringProxy(fake: FakeVllmServer, trainerUrl: string, temperature: number | null): Promise<ScoringProxy> {
  const trainer = createTrainerClient({ baseUrl: trainerUrl, timeoutMs: 60_000 });
  const app = new Hono().all('*', async (c) => {
    try {
      const { pathname, search } = new URL(c.req.url);
      const path = pathname + search;
      const body = c.req.method === 'POST' ? await c.req.text() : undefined;
      const upstream = await fetch(`${fake.url}${path}`, {
        method: c.req.method,
        headers: { 'content-type': 'application/json' },
        body,
      });
      let text = await upstream.text();
      if (path === '/v1/chat/completions' && upstream.ok) {
        const request = JSON.parse(body!) as { temperature: number; messages: Parameters<typeof toTrainerPrompt>[0] };
        const reply = JSON.parse(text) as {
          prompt_token_ids: number[];
          choices: { message: { content: string }; token_ids: number[]; logprobs: { content: { logprob: number }[] } }[];
        };
        const prompt = toTrainerPrompt(request.messages);
        for (const choice of reply.choices) {
          const scored = await trainer.scoreTokens({
            temperature: temperature ?? request.temperature,
            ...prompt,
            prompt_token_ids: reply.prompt_token_ids,
            completions: [{ text: choice.message.content, token_ids: choice.token_ids }],
          });
          choice.logprobs.content.forEach((entry, t) => (entry.logprob = scored.logprobs[0]![t]!));
        }
        text = JSON.stringify(reply);
      }
      // An empty body stays empty (null): a Response refuses a body, even '', with 204 or 304.
      return new Response(text === '' ? null : text, {
        status: upstream.status,
        headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
      });
    } catch (error: unknown) {
      return new Response(String(error), { status: 502 });
    }
  });
  const server = await startServer(app, { host: '127.0.0.1', port: 0 });
  return {
    url: server.url,
    async close() {
      await server.close();
      await trainer.close();
    },
  };
}

// Without the packages the suite fails, naming what to install: an agreement left unchecked is not a pass.
if (missing) it('has the Python trainer packages', () => expect.fail(missing));
else describeDoctor();

function describeDoctor(): void {
  describe('differad doctor against the Python trainer (tiny backend)', () => {
    let dir: string;
    let trainer: ReturnType<typeof startPythonTrainer>;
    let trainerUrl: string;
    let fake: FakeVllmServer;
    const proxies: ScoringProxy[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'differad-doctor-python-'));
      trainer = startPythonTrainer(dir);
      trainerUrl = await trainer.url;
      fake = await startFakeVllm({ model: TINY_MODEL, logprobsMode: 'processed_logprobs', tokensPerSecond: 100_000 });
    }, 90_000);
    afterAll(async () => {
      await Promise.all([...proxies.map((p) => p.close()), trainer?.stop(), fake?.close()]);
      await rm(dir, { recursive: true, force: true });
    });

    async function doctor(endpoint: string): Promise<{ code: number | null; rows: Row[]; stderr: string }> {
      const file = join(dir, `run-${proxies.length}.json`);
      await writeFile(
        file,
        JSON.stringify({
          data: { train: 'train.jsonl' },
          policy: { kind: 'endpoints', endpoints: [endpoint], model: TINY_MODEL, syncBackend: 'disk' },
          trainer: { kind: 'url', url: trainerUrl },
        }),
      );
      const result = await runCli(['doctor', '--config', file, '--json']);
      return { code: result.code, rows: (JSON.parse(result.stdout) as { checks: Row[] }).checks, stderr: result.stderr };
    }
    const agreement = (rows: Row[]) => rows.find((r) => r.check === 'log-prob agreement')!;
    const meanGap = (row: Row) => Number(/mean \|Δ\| ([\d.]+)/.exec(row.detail)?.[1]);

    it("passes every check when the server reports the model's log-probs at the sampling temperature, the disk sync included", async () => {
      const proxy = await startScoringProxy(fake, trainerUrl, null);
      proxies.push(proxy);
      const { code, rows, stderr } = await doctor(proxy.url);
      expect(
        rows.filter((r) => r.status !== 'pass'),
        stderr,
      ).toEqual([]);
      expect(code).toBe(0);
      expect(meanGap(agreement(rows))).toBeLessThan(1e-4);
      expect(rows.find((r) => r.check === 'weight sync')?.detail).toBe('disk sync of version 0 done on every server');
    }, 60_000);

    it('fails the agreement when the server reports log-probs before temperature (T = 1), though /server_info says processed', async () => {
      const proxy = await startScoringProxy(fake, trainerUrl, 1);
      proxies.push(proxy);
      const { code, rows } = await doctor(proxy.url);
      expect(code).toBe(2);
      const row = agreement(rows);
      expect(row.status).toBe('fail');
      // 0.058 here: a random tiny model is nearly uniform, the hardest case for the 0.05 tolerance; peaked real models differ by more.
      expect(meanGap(row), row.detail).toBeGreaterThan(0.05);
      expect(row.fix).toContain('--logprobs-mode processed_logprobs');
      expect(rows.filter((r) => r.status === 'fail').map((r) => r.check)).toEqual(['log-prob agreement']);
    }, 60_000);

    it("fails the agreement for log-probs of another model (the fake's own)", async () => {
      const { code, rows } = await doctor(fake.url);
      expect(code).toBe(2);
      expect(agreement(rows).status).toBe('fail');
      expect(meanGap(agreement(rows))).toBeGreaterThan(0.5);
    }, 60_000);
  });
}
