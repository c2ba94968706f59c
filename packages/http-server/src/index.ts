export { type FetchApp, type RunningServer, startServer } from './lifecycle/start-server.js';
export {
  type BodyLimit,
  DEFAULT_DRAIN_LIMITS,
  DEFAULT_MAX_BODY_BYTES,
  type DrainLimits,
  HTTP_BODY_TOO_LARGE,
} from './body/request-body.js';
export { readBodyBytes, readBodyText, toIncoming } from './body/read-body.js';
export { jsonBody, type JsonBodyVariables } from './body/json-body.js';
export { HTTP_SERVER_ERRORS } from './errors/http-server-errors.js';
export { ALREADY_SENT, createErrorHandler, sendWhole } from './errors/error-handler.js';
