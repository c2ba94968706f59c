import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiDeps, createApiServer, createAuthenticator } from '@differad/api';
import { CpuPolicyServer } from '@differad/cpu-policy';
import { createCpuTrainer } from '@differad/cpu-trainer';
import { createLineLogger } from '@differad/log';
import { postConcurrently, startFakeVllm, uploadRawBody } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNoopTrainer } from '../../bench/pipeline/noop-trainer.js';

// Every HTTP server of the project answers a body over its limit with a 413
// the client can read (issue 11). A server that closes the connection while
// the client is still sending resets it, and fetch then fails with EPIPE
// instead of reading the 413: 20 clients at once on another thread make that
// race show, and a raw upload that waits for the reply before sending the
// rest of its body shows it every time.
const LIMIT = 1024 * 1024;
const BODY_BYTES = 2 * 1024 * 1024;
const CLIENTS = 20;
const TOKEN = 'body-limit-token-0123456789abcdef';

interface Target {
  readonly url: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** The error code in the server's error body. */
  readonly code: string | number;
  close(): Promise<void>;
}

const SERVERS: Record<string, () => Promise<Target>> = {
  async 'REST API'() {
    // POST /v1/runs answers 413 before it touches a store or a launcher.
    const deps = { bodyLimitBytes: LIMIT, launchers: {} } as unknown as ApiDeps;
    const api = createApiServer({
      deps,
      auth: createAuthenticator(TOKEN),
      queueBoard: null,
      pingRedis: async () => true,
      logger: createLineLogger(() => undefined, 'silent'),
    });
    const url = await api.listen('127.0.0.1', 0);
    return { url, path: '/v1/runs', headers: { authorization: `Bearer ${TOKEN}` }, code: 'API_BODY_TOO_LARGE', close: () => api.close() };
  },
  async 'CPU trainer'() {
    const stateDir = await mkdtemp(join(tmpdir(), 'differad-body-limit-'));
    const trainer = createCpuTrainer({ stateDir, maxBodyBytes: LIMIT });
    const { url } = await trainer.start();
    const close = async () => {
      await trainer.close();
      await rm(stateDir, { recursive: true, force: true });
    };
    return { url, path: '/v1/forward_backward', headers: {}, code: 'TRAINER_BODY_TOO_LARGE', close };
  },
  async 'CPU policy'() {
    const policy = await CpuPolicyServer.start({ maxBodyBytes: LIMIT });
    return { url: policy.url, path: '/v1/chat/completions', headers: {}, code: 413, close: () => policy.close() };
  },
  async 'fake vLLM'() {
    const fake = await startFakeVllm({ maxBodyBytes: LIMIT });
    return { url: fake.url, path: '/v1/chat/completions', headers: {}, code: 413, close: () => fake.close() };
  },
  async "bench's no-op trainer"() {
    const noop = await startNoopTrainer({ maxBodyBytes: LIMIT });
    return { url: noop.url, path: '/v1/forward_backward', headers: {}, code: 'TRAINER_BODY_TOO_LARGE', close: () => noop.close() };
  },
};

describe.each(Object.keys(SERVERS))('the %s and a body over its limit', (name) => {
  let target: Target;
  beforeAll(async () => {
    target = await SERVERS[name]!();
  });
  afterAll(() => target?.close());

  it.each([
    ['a Content-Length over the limit', false],
    ['a chunked body that grows past the limit', true],
  ])(`answers ${CLIENTS} concurrent clients sending %s with a readable 413`, async (_, streamed) => {
    const outcomes = await postConcurrently(`${target.url}${target.path}`, {
      clients: CLIENTS,
      bytes: BODY_BYTES,
      streamed,
      headers: target.headers,
    });
    expect(outcomes).toEqual(Array(CLIENTS).fill(`413 ${target.code}`));
  });

  it.each([
    ['a Content-Length over the limit', false],
    ['a chunked body that grows past the limit', true],
  ])('lets a client sending %s finish its upload after the 413, then closes', async (_, chunked) => {
    const result = await uploadRawBody(target.url, {
      path: target.path,
      headers: target.headers,
      bytes: BODY_BYTES,
      chunked,
      pauseAfterBytes: LIMIT + 256 * 1024,
    });
    expect(result).toMatchObject({ status: 413, error: null, endedEarly: false, sentBytes: BODY_BYTES, headers: { connection: 'close' } });
    expect((JSON.parse(result.body) as { error: { code: unknown } }).error.code).toBe(target.code);
  });
});
