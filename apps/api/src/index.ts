/**
 * @differad/api — `differad api`: REST jobs (training runs, evaluations,
 * synthesis) with zod-validated bodies and a generated OpenAPI document, the
 * dashboard (run pages with live SVG charts, bull-board for the queues), and
 * the launchers that run the CLI for submitted jobs.
 */
export { type StartApiOptions, type OpenedApi, type RunningApi, type LauncherBase, openApi, startApi } from './start-api.js';
export { type ApiApp, type ApiServer, type ApiServerOptions, createApiApp, createApiServer, createRoutes } from './server.js';
export { type ApiDeps, type StreamSettings, createJobId } from './routes/api-deps.js';
export { API_ERROR_CODES, API_ERRORS, type ApiErrorCode, ApiErrorBodySchema, type ApiErrorBody, toErrorReply } from './errors/api-errors.js';
export { API_TOKEN_ENV, MIN_TOKEN_LENGTH, type ResolvedToken, resolveApiToken, toDefaultTokenFile } from './auth/api-token.js';
export { TOKEN_COOKIE, type Authenticator, createAuthenticator } from './auth/authenticate.js';
export { type DataRoots, createDataRoots, isInside } from './paths/data-roots.js';
export { type JobStore, type JobStoreOptions, createJobStore } from './jobs/job-store.js';
export {
  type RunLauncher,
  type JobLauncher,
  type EvalLauncher,
  type SynthLauncher,
  type Launchers,
  type LaunchableTrainConfig,
  toEvalArgs,
  toSynthArgs,
} from './launch/launchers.js';
export { type ProcessLaunchersOptions, createProcessLaunchers } from './launch/process-launchers.js';
export { SubmitRunBodySchema, type SubmitRunBody, RunResponseSchema, RunListResponseSchema, MetricsResponseSchema } from './schemas/run-schemas.js';
export {
  SubmitEvalBodySchema,
  type SubmitEvalBody,
  SubmitSynthBodySchema,
  type SubmitSynthBody,
  JobSnapshotSchema,
  type JobSnapshot,
  JOB_KINDS,
  type JobKind,
  JOB_STATES,
  type JobState,
} from './schemas/job-schemas.js';
export { createOpenApiDocument, API_VERSION } from './openapi/openapi-document.js';
export { METRIC_KEYS, type MetricName } from './dashboard/metric-series.js';
export { renderRunCharts } from './dashboard/run-charts.js';
