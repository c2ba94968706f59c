/**
 * An in-process API on an embedded Redis with launchers that only touch the
 * stores (as the orchestrator would), for the `*.redis.test.ts` files. Imported
 * by tests only.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmbeddedRedis, startEmbeddedRedis } from '@differad/queue';
import type { Launchers } from '../launch/launchers.js';
import { type LauncherBase, type RunningApi, startApi } from '../start-api.js';

/** A started fake API: its URL, token, data folder and what its launchers hold running. */
export interface FakeApi {
  readonly api: RunningApi;
  readonly token: string;
  /** The temporary folder; the data root is `<dir>/data` with `set/train.jsonl` in it. */
  readonly dir: string;
  /** `run:<id>`, `eval:<id>`, `synth:<id>` of everything started and not cancelled. */
  readonly running: ReadonlySet<string>;
  close(): Promise<void>;
}

/** Starts the API with fake launchers on a fresh embedded Redis. */
export async function startFakeApi(token: string): Promise<FakeApi> {
  const dir = await mkdtemp(join(tmpdir(), 'differad-api-fake-'));
  await mkdir(join(dir, 'data', 'set'), { recursive: true });
  await writeFile(join(dir, 'data', 'set', 'train.jsonl'), '');
  const redis: EmbeddedRedis = await startEmbeddedRedis();
  const running = new Set<string>();
  const job = (kind: string) => ({
    start: async (id: string) => void running.add(`${kind}:${id}`),
    cancel: async (id: string) => running.delete(`${kind}:${id}`),
  });
  const launchers = (base: LauncherBase): Launchers => ({
    runs: {
      async start(config) {
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
  const api = await startApi({
    host: '127.0.0.1',
    port: 0,
    dataRoots: ['data'],
    runsDir: 'runs',
    tokenFile: join(dir, 'state', 'api-token'),
    env: { DIFFERAD_REDIS_URL: redis.url, DIFFERAD_API_TOKEN: token },
    cwd: dir,
    cliCommand: ['false'],
    launchers,
    log: () => undefined,
  });
  return {
    api,
    token,
    dir,
    running,
    async close() {
      await api.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
