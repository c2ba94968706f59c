import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDifferadError } from '@differad/core';
import { HTTP_BODY_TOO_LARGE, sendAndDrain } from './request-body.js';

/** Sends a JSON body unless the client is gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The request's X-Request-Id header (the first, if repeated), or null. vLLM
 * takes it as the request's id (`chatcmpl-<X-Request-Id>`) and echoes it.
 */
export function readRequestIdHeader(req: IncomingMessage): string | null {
  const raw = req.headers['x-request-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined || value === '' ? null : value;
}

/** vLLM's error body: `{"error": {"message", "type", "param", "code"}}`. */
export function toOpenAiError(status: number, message: string, param: string | null): Record<string, unknown> {
  const type = status === 404 ? 'NotFoundError' : status >= 500 ? 'InternalServerError' : 'BadRequestError';
  return { error: { message, type, param, code: status } };
}

/** Sends vLLM's error body. */
export function sendOpenAiError(res: ServerResponse, status: number, message: string, param: string | null = null): void {
  sendJson(res, status, toOpenAiError(status, message, param));
}

/**
 * Answers a request whose handler failed, in vLLM's error shape: 413 for a
 * body over the limit (HTTP_BODY_TOO_LARGE), else 500 with `server: message`.
 * Sent with sendAndDrain, so a client still sending its body reads it.
 */
export function sendOpenAiFailure(res: ServerResponse, error: unknown, server: string): void {
  if (res.headersSent) return void res.destroy();
  const tooLarge = isDifferadError(error, HTTP_BODY_TOO_LARGE);
  const status = tooLarge ? 413 : 500;
  const message = tooLarge ? error.message : `${server}: ${error instanceof Error ? error.message : String(error)}`;
  sendAndDrain(res, status, { 'content-type': 'application/json' }, JSON.stringify(toOpenAiError(status, message, null)));
}

/** Prometheus text exposition of the two load gauges vLLM publishes, plus the served weight version. */
export function formatLoadMetrics(model: string, running: number, waiting: number, weightVersion: number): string {
  const label = `{model_name="${model.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"}`;
  return [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running${label} ${running.toFixed(1)}`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting${label} ${waiting.toFixed(1)}`,
    '# HELP differad_weight_version Weight version being served (bumped by /update_weights).',
    '# TYPE differad_weight_version gauge',
    `differad_weight_version${label} ${weightVersion}`,
    '',
  ].join('\n');
}
