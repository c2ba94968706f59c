import { isDifferadError } from '@differad/core';
import { createErrorHandler, HTTP_BODY_TOO_LARGE } from '@differad/http-server';
import type { Context } from 'hono';

/** vLLM's error body: `{"error": {"message", "type", "param", "code"}}`. */
export function toOpenAiError(status: number, message: string, param: string | null): Record<string, unknown> {
  const type = status === 404 ? 'NotFoundError' : status >= 500 ? 'InternalServerError' : 'BadRequestError';
  return { error: { message, type, param, code: status } };
}

/** Answers with vLLM's error body. */
export function openAiError(c: Context, status: 400 | 404 | 500, message: string, param: string | null = null): Response {
  return c.json(toOpenAiError(status, message, param), status);
}

/**
 * The one error handler of a vLLM-compatible server, in vLLM's error shape:
 * 413 for a body over the limit (HTTP_BODY_TOO_LARGE), else 500 with
 * `server: message`; sent so that a client still sending its body reads it.
 */
export function createOpenAiErrorHandler(server: string): (error: unknown, c: Context) => Response {
  return createErrorHandler({
    toReply: (error) => {
      if (isDifferadError(error, HTTP_BODY_TOO_LARGE)) return { status: 413, body: toOpenAiError(413, error.message, null) };
      return { status: 500, body: toOpenAiError(500, `${server}: ${error instanceof Error ? error.message : String(error)}`, null) };
    },
  });
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
