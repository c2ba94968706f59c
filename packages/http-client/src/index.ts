/** @differad/http-client — the one JSON client of differad's HTTP adapters: one deadline per call, typed errors, no retries. */
export {
  type HttpClientErrorCodes,
  type HttpErrorMapper,
  type HttpErrorProfile,
  type RejectionProfile,
  type ServerErrorBody,
  DeadlineExceeded,
  createHttpErrorMapper,
  toBodyExcerpt,
} from './errors/http-client-errors.js';
export { type HttpReply, type JsonCall, type JsonClient, type JsonClientOptions, createJsonClient } from './client/json-client.js';
export { normalizeBaseUrl } from './client/base-url.js';
