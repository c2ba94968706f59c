/**
 * @differad/api — `differad api`: REST jobs (training runs, evaluations,
 * synthesis) with zod-validated bodies and a generated OpenAPI document, the
 * dashboard (run pages with live SVG charts, bull-board for the queues), and
 * the launchers that run the CLI for submitted jobs.
 */
export { type RunningApi, startApi } from './start-api.js';
export { createApiServer } from './server.js';
export { type ApiDeps } from './routes/api-deps.js';
export { API_ERRORS } from './errors/api-errors.js';
export { toDefaultTokenFile } from './auth/api-token.js';
export { createAuthenticator } from './auth/authenticate.js';
