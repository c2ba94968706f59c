import { createLogger, type LogLevel } from '@differad/log';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createRequestLog } from './request-log.js';
import type { ApiEnv } from './router.js';

function appLogging(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level,
    format: 'json',
    name: 'api',
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const app = new Hono<ApiEnv>();
  app.onError((_error, c) => c.json({ error: { code: 'API_INTERNAL' } }, 500));
  app.use('*', createRequestLog(logger));
  app.get('/v1/runs', (c) => c.json([]));
  app.get('/v1/broken', () => {
    throw new Error('boom');
  });
  app.get('/health', (c) => c.json({ ok: true }));
  return { app, lines };
}

describe('createRequestLog', () => {
  it('logs one JSON line per request with method, path, status and duration, never the query', async () => {
    const { app, lines } = appLogging('info');
    expect((await app.request('/v1/runs?token=secret')).status).toBe(200);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', name: 'api', method: 'GET', path: '/v1/runs', status: 200, msg: 'GET /v1/runs 200' });
    expect(lines[0]!.duration_ms).toBeTypeOf('number');
    expect(JSON.stringify(lines[0])).not.toContain('secret');
  });

  it('logs a failed request at error with the status of its error reply', async () => {
    const { app, lines } = appLogging('info');
    expect((await app.request('/v1/broken')).status).toBe(500);
    expect(lines).toEqual([expect.objectContaining({ level: 'error', path: '/v1/broken', status: 500 })]);
  });

  it('keeps health probes at debug, out of an info log', async () => {
    const info = appLogging('info');
    await info.app.request('/health');
    expect(info.lines).toEqual([]);
    const debug = appLogging('debug');
    await debug.app.request('/health');
    expect(debug.lines).toEqual([expect.objectContaining({ level: 'debug', path: '/health', status: 200 })]);
  });
});
