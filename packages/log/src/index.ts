/**
 * @differad/log — the structured logs of differad's processes (pino): JSON
 * lines for files and log shippers, a readable line at a terminal, one
 * `Logger` interface the workers, the training loop and the API log through.
 */
export { createLineLogger, createLogger, type Logger, type LogLevel, resolveLogFormat, toLineSink } from './create-logger.js';
export { toErrorFields } from './error-fields.js';
