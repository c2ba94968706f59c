/**
 * An API on an embedded Redis with launchers that only touch the stores (as
 * the orchestrator would), for the `*.redis.test.ts` files and schemathesis:
 * served through `app.request()` (no socket), or on a port. Imported by tests only.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLineLogger } from '@differad/log';
import { type EmbeddedRedis, startEmbeddedRedis } from '@differad/queue';
import type { LaunchableTrainConfig, Launchers } from '../launch/launchers.js';
import { type LauncherBase, type OpenedApi, openApi, serveApi } from '../start-api.js';

/** The host the fake API's requests name (a client always sends Host; the origin checks compare with it). */
export const FAKE_API_ORIGIN = 'http://api.test';

/** An opened fake API: its app, token, data folder and what its launchers were asked. */
export interface FakeApi {
  readonly api: OpenedApi;
  readonly token: string;
  /** The temporary folder; the data root is `<dir>/data` with `set/train.jsonl` in it. */
  readonly dir: string;
  /** `run:<id>`, `eval:<id>`, `synth:<id>` of everything started and not cancelled. */
  readonly running: ReadonlySet<string>;
  /** Every run config the launcher was given, in order. */
  readonly started: readonly LaunchableTrainConfig[];
  /** `app.request()` at {@link FAKE_API_ORIGIN} (path and query as sent), with its Host header unless `init` names one. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Opens the API with fake launchers on a fresh embedded Redis, without a socket. */
export async function openFakeApi(token: string): Promise<FakeApi> {
  const dir = await mkdtemp(join(tmpdir(), 'differad-api-fake-'));
  await mkdir(join(dir, 'data', 'set'), { recursive: true });
  await writeFile(join(dir, 'data', 'set', 'train.jsonl'), '');
  const redis: EmbeddedRedis = await startEmbeddedRedis();
  const running = new Set<string>();
  const started: LaunchableTrainConfig[] = [];
  const job = (kind: string) => ({
    start: async (id: string) => void running.add(`${kind}:${id}`),
    cancel: async (id: string) => running.delete(`${kind}:${id}`),
  });
  const launchers = (base: LauncherBase): Launchers => ({
    runs: {
      async start(config) {
        started.push(config);
        await base.runStore.createRun(config.run.id, config);
        await base.runStore.setState(config.run.id, 'running');
        // A live `differad train` beats; without it the run reads as interrupted.
        await base.runStore.beat(config.run.id, { pid: process.pid, host: 'fake' }, 3_600_000);
        running.add(`run:${config.run.id}`);
        return { runId: config.run.id };
      },
      cancel: async (runId) => running.delete(`run:${runId}`),
    },
    evals: job('eval'),
    synth: job('synth'),
    close: () => Promise.resolve(),
  });
  const api = await openApi({
    dataRoots: ['data'],
    runsDir: 'runs',
    tokenFile: join(dir, 'state', 'api-token'),
    env: { DIFFERAD_REDIS_URL: redis.url, DIFFERAD_API_TOKEN: token },
    cwd: dir,
    cliCommand: ['false'],
    launchers,
    logger: createLineLogger(() => undefined, 'silent'),
  });
  return {
    api,
    token,
    dir,
    running,
    started,
    async request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('host')) headers.set('host', new URL(FAKE_API_ORIGIN).host);
      return api.app.request(`${FAKE_API_ORIGIN}${path}`, { ...init, headers });
    },
    async close() {
      await api.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fake API on a port of 127.0.0.1 (for what needs a socket: the loopback login link, schemathesis). */
export interface ServedFakeApi extends FakeApi {
  readonly url: string;
}

/** {@link openFakeApi} on a free port of 127.0.0.1. */
export async function startFakeApi(token: string): Promise<ServedFakeApi> {
  const fake = await openFakeApi(token);
  return serveApi(fake, fake.api.app, '127.0.0.1', 0);
}
