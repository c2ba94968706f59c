import type { Logger } from '@differad/log';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './router.js';

/** Paths probed every few seconds (compose's health check, Prometheus): their lines are debug, not info. */
const PROBE_PATHS = new Set(['/health', '/metrics']);

/**
 * One log line per request once its reply is decided: method, path (never
 * the query, which may carry a token), status and duration in ms; a failed
 * request's (5xx) line is logged by the error handler with its error. A
 * metric stream's line comes when its headers go out, not when it ends.
 */
export function createRequestLog(logger: Logger): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    };
    const line = `${fields.method} ${fields.path} ${fields.status}`;
    if (PROBE_PATHS.has(fields.path)) logger.debug(fields, line);
    else if (fields.status >= 500) logger.error(fields, line);
    else logger.info(fields, line);
  };
}
