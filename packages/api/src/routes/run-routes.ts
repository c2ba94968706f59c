import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { isDifferadError } from '@differad/core';
import type { RunSnapshot } from '@differad/queue';
import { apiError } from '../errors/api-errors.js';
import { replyJson } from '../http/http-io.js';
import type { ApiContext, Route } from '../http/router.js';
import type { LaunchableTrainConfig } from '../launch/launchers.js';
import { streamRunMetrics } from '../metrics/metrics-stream.js';
import {
  CancelBodySchema,
  MetricsQuerySchema,
  MetricsResponseSchema,
  RunDetailResponseSchema,
  RunListResponseSchema,
  RunResponseSchema,
  SubmitRunBodySchema,
} from '../schemas/run-schemas.js';
import { type ApiDeps, createJobId } from './api-deps.js';
import { rawAt, readIdParam, readValidQuery, replyCreated, withJsonBody } from './route-helpers.js';

/** Resolves every path of a run config inside the roots; the config the run gets holds the real paths. */
async function resolveRunPaths(deps: ApiDeps, config: TrainConfig, raw: unknown): Promise<TrainConfig> {
  const read = (path: string, field: string) => deps.dataRoots.resolve(path, field, { kind: 'file' });
  const optional = async (path: string | undefined, field: string) => (path === undefined ? undefined : read(path, field));
  const rawRunsDir = rawAt(raw, ['config', 'run', 'runsDir']);
  const runsDir =
    rawRunsDir === undefined
      ? deps.runsRoot
      : await deps.outputRoots.resolve(config.run.runsDir, 'config.run.runsDir', { mustExist: false, kind: 'folder' });
  const policy =
    config.policy.kind === 'cpu' && config.policy.init !== undefined
      ? { ...config.policy, init: await read(config.policy.init, 'config.policy.init') }
      : config.policy;
  return {
    ...config,
    run: { ...config.run, runsDir },
    data: {
      ...config.data,
      train: await read(config.data.train, 'config.data.train'),
      eval: await optional(config.data.eval, 'config.data.eval'),
    },
    policy,
    prompt: { ...config.prompt, pool: await optional(config.prompt.pool, 'config.prompt.pool') },
  };
}

async function loadRunOr404(deps: ApiDeps, c: ApiContext): Promise<RunSnapshot> {
  const runId = readIdParam(c, 'run');
  const run = await deps.runStore.loadRun(runId);
  if (run === null) throw apiError('API_NOT_FOUND', `no run ${runId}`, { runId });
  return run;
}

/** `/v1/runs…`: submit, list, get and cancel training runs, and read their metrics (JSON and SSE). */
export function createRunRoutes(deps: ApiDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/runs',
      auth: true,
      doc: {
        operationId: 'submitRun',
        tag: 'runs',
        summary: 'Submit a training run: `config` is the same object as the YAML of `differad train --config`.',
        body: { name: 'SubmitRunBody', schema: SubmitRunBodySchema },
        response: { name: 'RunResponse', schema: RunResponseSchema },
        status: 201,
        errors: [400, 409, 413, 415, 422],
      },
      handlers: withJsonBody(SubmitRunBodySchema, 'run', deps.bodyLimitBytes, async (c, body, json) => {
        const resolved = await resolveRunPaths(deps, body.config, json);
        const runId = resolved.run.id ?? createJobId('run', deps.now());
        const config: LaunchableTrainConfig = { ...resolved, run: { ...resolved.run, id: runId } };
        if ((await deps.runStore.loadRun(runId)) !== null) throw apiError('API_CONFLICT', `run ${runId} exists already`, { runId });
        await deps.launchers.runs.start(config);
        return replyCreated(c, `/v1/runs/${runId}`, { run: await deps.runStore.loadRun(runId) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/runs',
      auth: true,
      doc: {
        operationId: 'listRuns',
        tag: 'runs',
        summary: 'Training runs, newest first (at most 100).',
        response: { name: 'RunListResponse', schema: RunListResponseSchema },
      },
      handlers: [
        async (c) => {
          const ids = await deps.runStore.listRuns(100);
          const runs = await Promise.all(ids.map((id) => deps.runStore.loadRun(id)));
          return replyJson(c, 200, { runs: runs.filter((r): r is RunSnapshot => r !== null) });
        },
      ],
    },
    {
      method: 'GET',
      path: '/v1/runs/:id',
      auth: true,
      doc: {
        operationId: 'getRun',
        tag: 'runs',
        summary: 'A run: its state, last completed step, weight version and config.',
        response: { name: 'RunDetailResponse', schema: RunDetailResponseSchema },
        errors: [404],
      },
      handlers: [
        async (c) => {
          const run = await loadRunOr404(deps, c);
          const config = await deps.runStore.loadConfig(run.runId, TrainConfigSchema).catch((error: unknown) => {
            if (isDifferadError(error, 'QUEUE_RUN_STATE_INVALID')) return null;
            throw error;
          });
          return replyJson(c, 200, { run, config });
        },
      ],
    },
    {
      method: 'POST',
      path: '/v1/runs/:id/cancel',
      auth: true,
      doc: {
        operationId: 'cancelRun',
        tag: 'runs',
        summary:
          'Stop a run this API started (SIGTERM to its process); the run becomes `cancelled`. Send `Content-Type: application/json` and an empty body or `{}`.',
        body: { name: 'CancelBody', schema: CancelBodySchema },
        response: { name: 'RunResponse', schema: RunResponseSchema },
        errors: [404, 409],
      },
      handlers: withJsonBody(CancelBodySchema, 'cancel', deps.bodyLimitBytes, async (c) => {
        const run = await loadRunOr404(deps, c);
        if (run.state === 'completed' || run.state === 'failed' || run.state === 'cancelled')
          throw apiError('API_CONFLICT', `run ${run.runId} has ended (${run.state})`, { runId: run.runId, state: run.state });
        if (!(await deps.launchers.runs.cancel(run.runId))) {
          throw apiError(
            'API_CONFLICT',
            `run ${run.runId} is not running in this API process (only runs it started can be cancelled here)`,
            { runId: run.runId },
          );
        }
        await deps.runStore.setState(run.runId, 'cancelled', 'cancelled through the API');
        return replyJson(c, 200, { run: await deps.runStore.loadRun(run.runId) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/runs/:id/metrics',
      auth: true,
      doc: {
        operationId: 'getRunMetrics',
        tag: 'runs',
        summary: "A run's per-step metrics in step order.",
        query: { fromStep: 'first step (default 0)', count: 'at most this many rows' },
        response: { name: 'MetricsResponse', schema: MetricsResponseSchema },
        errors: [400, 404],
      },
      handlers: [
        async (c) => {
          const run = await loadRunOr404(deps, c);
          const query = readValidQuery(c, MetricsQuerySchema);
          const metrics = await deps.runStore.readMetrics(run.runId, {
            fromStep: query.fromStep,
            ...(query.count === undefined ? {} : { count: query.count }),
          });
          return replyJson(c, 200, { runId: run.runId, metrics });
        },
      ],
    },
    {
      method: 'GET',
      path: '/v1/runs/:id/metrics/stream',
      auth: true,
      doc: {
        operationId: 'streamRunMetrics',
        tag: 'runs',
        summary:
          'Server-sent events: `metrics` (one StepMetrics row, id = step) as rows appear, `state` on a state change, a `: heartbeat` comment when idle, and `end` when the run completes or fails. Resumes after `Last-Event-ID`.',
        query: { fromStep: 'first step (default 0)' },
        response: { contentType: 'text/event-stream', description: 'the event stream' },
        errors: [400, 404],
      },
      handlers: [
        async (c) => {
          const run = await loadRunOr404(deps, c);
          const { fromStep } = readValidQuery(c, MetricsQuerySchema.pick({ fromStep: true }));
          const lastEventId = Number(c.req.header('last-event-id'));
          const start = Number.isInteger(lastEventId) && lastEventId >= 0 ? lastEventId + 1 : fromStep;
          return streamRunMetrics(c, { store: deps.runStore, runId: run.runId, fromStep: start, settings: deps.stream });
        },
      ],
    },
  ];
}
