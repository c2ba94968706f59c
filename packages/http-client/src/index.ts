/** @differad/http-client — the one JSON client of differad's HTTP adapters: one deadline per call, typed errors, no retries. */
export { DeadlineExceeded, createHttpErrorMapper } from './errors/http-client-errors.js';
export { type HttpReply, SerializedJson, createJsonClient } from './client/json-client.js';
export { normalizeBaseUrl } from './client/base-url.js';
