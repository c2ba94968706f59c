import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type FetchApp, startServer } from '@differad/http-server';
import type { DifferadMetrics } from '@differad/metrics';
import type { Logger } from '@differad/log';
import {
  type CatalogQueueMap,
  connectRedis,
  createCatalogQueues,
  createRunStore,
  JOB_NAMES,
  type JobName,
  REDIS_URL_ENV,
  resolveRedis,
  type RunStore,
} from '@differad/queue';
import { createAuthenticator } from './auth/authenticate.js';
import { createCsrfTokens } from './auth/csrf.js';
import { resolveApiToken, type ResolvedToken } from './auth/api-token.js';
import { DEFAULT_BODY_LIMIT_BYTES } from './http/http-io.js';
import { createJobStore, type JobStore } from './jobs/job-store.js';
import type { Launchers } from './launch/launchers.js';
import { createProcessLaunchers } from './launch/process-launchers.js';
import { createDataRoots } from './paths/data-roots.js';
import type { ApiDeps, StreamSettings } from './routes/api-deps.js';
import { type FetchHandler, QUEUE_BOARD_PATH } from './routes/dashboard-routes.js';
import { API_CLOSE_GRACE_MS, type ApiApp, createApiApp } from './server.js';

/** Options of {@link startApi} (the flags of `differad api`). */
export interface StartApiOptions {
  readonly host: string;
  readonly port: number;
  /** Folders job bodies may name paths in (relative to `cwd`; created when missing). */
  readonly dataRoots: readonly string[];
  /** Default `run.runsDir`; evaluation outputs and job logs go below it. */
  readonly runsDir: string;
  /** The token file when DIFFERAD_API_TOKEN is not set. */
  readonly tokenFile: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** How to run `differad` for launched jobs, e.g. `[process.execPath, '/app/apps/cli/bin/differad.js']`. */
  readonly cliCommand: readonly string[];
  /** Launched runs get `--no-workers`: `differad worker` processes (compose's orchestrator service) serve the queues. */
  readonly externalWorkers?: boolean;
  /** Catalog namespace of the queues bull-board shows (as the orchestrator's). */
  readonly namespace?: string;
  readonly bodyLimitBytes?: number;
  readonly stream?: Partial<StreamSettings>;
  /** Replaces the process launchers (tests, or another way of running jobs). */
  readonly launchers?: (base: LauncherBase) => Launchers;
  /** The process's metrics (`differad api --metrics-port`, served apart from the API): the catalog queues' counts at every scrape. */
  readonly metrics?: DifferadMetrics;
  /** Requests, launched jobs' lifecycle, warnings (README, "Logs"). */
  readonly logger: Logger;
}

/** What a replacement launcher factory gets: where runs go and the stores to record outcomes in. */
export interface LauncherBase {
  readonly runsRoot: string;
  readonly runStore: RunStore;
  readonly jobStore: JobStore;
  readonly logger: Logger;
}

/** The API with everything it owns, not yet listening: its Hono app serves `app.request()` as it is. */
export interface OpenedApi {
  readonly app: ApiApp['app'];
  readonly token: ResolvedToken;
  readonly redisUrl: string;
  readonly redisSource: 'env' | 'embedded';
  readonly dataRoots: readonly string[];
  /** Stops the jobs it started, its queues, its Redis connection and an embedded Redis. */
  close(): Promise<void>;
}

/** A running API and everything it owns. */
export interface RunningApi extends Omit<OpenedApi, 'app'> {
  readonly url: string;
  /** Stops the server, then everything {@link OpenedApi.close} stops. */
  close(): Promise<void>;
}

async function loadQueueBoard(queues: readonly CatalogQueueMap[JobName][], logger: Logger): Promise<FetchHandler | null> {
  try {
    const { createQueueBoard } = await import('./dashboard/bull-board.js');
    return createQueueBoard(queues, QUEUE_BOARD_PATH);
  } catch (error) {
    logger.warn(`bull-board is unavailable (${(error as Error).message}); ${QUEUE_BOARD_PATH} will say so`);
    return null;
  }
}

/**
 * Opens `differad api` without a socket: the token, Redis (DIFFERAD_REDIS_URL
 * or an embedded redis-server with its AOF under `<runsDir>/.redis`), the run
 * and job stores, the process launchers (children get the same Redis URL), the
 * catalog queues for bull-board, and the Hono app on them.
 */
export async function openApi(options: Omit<StartApiOptions, 'host' | 'port'>): Promise<OpenedApi> {
  const token = await resolveApiToken(options.env, options.tokenFile);
  const runsRoot = resolve(options.cwd, options.runsDir);
  const dataRoots = await createDataRoots(options.dataRoots, options.cwd);
  const outputRoots = await createDataRoots([runsRoot, ...options.dataRoots], options.cwd);
  await mkdir(join(runsRoot, '.redis'), { recursive: true });
  const redisInfo = await resolveRedis(options.env, { dir: join(runsRoot, '.redis') });
  const cleanups: (() => Promise<unknown>)[] = [() => redisInfo.stop()];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e: unknown) => options.logger.warn((e as Error).message));
  };
  try {
    const redis = await connectRedis(redisInfo.url, 'producer');
    cleanups.push(() => redis.quit());
    const runStore = createRunStore(redis);
    const jobStore = createJobStore(redis);
    const base: LauncherBase = { runsRoot, runStore, jobStore, logger: options.logger };
    const launchers =
      options.launchers?.(base) ??
      createProcessLaunchers({
        ...base,
        command: options.cliCommand,
        cwd: options.cwd,
        env: { ...options.env, [REDIS_URL_ENV]: redisInfo.url },
        trainArgs: options.externalWorkers ? ['--no-workers'] : [],
      });
    cleanups.push(() => launchers.close());
    const queues = createCatalogQueues(redis, options.namespace === undefined ? {} : { namespace: options.namespace });
    cleanups.push(() => queues.close());
    // Stopped before the queues close (cleanups run last first).
    if (options.metrics) {
      const stopQueueCounts = options.metrics.collectQueues(Object.values(queues.queues));
      cleanups.push(async () => stopQueueCounts());
    }
    const deps: ApiDeps = {
      runStore,
      jobStore,
      launchers,
      dataRoots,
      outputRoots,
      runsRoot,
      bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      stream: { pollMs: options.stream?.pollMs ?? 500, heartbeatMs: options.stream?.heartbeatMs ?? 15_000 },
      now: Date.now,
    };
    const queueBoard = await loadQueueBoard(
      JOB_NAMES.map((name) => queues.queues[name]),
      options.logger,
    );
    const pingRedis = async () => (await redis.ping().catch(() => null)) === 'PONG';
    const { app } = createApiApp({
      deps,
      auth: createAuthenticator(token.token),
      csrf: createCsrfTokens(token.token),
      queueBoard,
      pingRedis,
      logger: options.logger,
    });
    return { app, token, redisUrl: redisInfo.url, redisSource: redisInfo.source, dataRoots: dataRoots.roots, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Serves `app` on `host:port` for something opened with it (graceful close;
 * open metric streams are cut after 1 s): the result's close() stops the
 * server, then `opened`. When binding fails, `opened` is closed.
 */
export async function serveApi<T extends { close(): Promise<void> }>(
  opened: T,
  app: FetchApp,
  host: string,
  port: number,
): Promise<Omit<T, 'close'> & { url: string; close(): Promise<void> }> {
  const server = await startServer(app, { host, port, closeGraceMs: API_CLOSE_GRACE_MS }).catch(async (error: unknown) => {
    await opened.close();
    throw error;
  });
  const close = async () => {
    await server.close();
    await opened.close();
  };
  return { ...opened, url: server.url, close };
}

/** Starts `differad api`: {@link openApi}, then its app on `host:port`. */
export async function startApi(options: StartApiOptions): Promise<RunningApi> {
  const { app, ...opened } = await openApi(options);
  return serveApi(opened, app, options.host, options.port);
}
