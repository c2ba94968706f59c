import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Reads a request body as text; rejects bodies over 64 MiB. */
export async function readRequestBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError('request body over 64 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Sends a JSON body unless the client is gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** vLLM's error body: `{"error": {"message", "type", "param", "code"}}`. */
export function sendOpenAiError(res: ServerResponse, status: number, message: string, param: string | null = null): void {
  const type = status === 404 ? 'NotFoundError' : status >= 500 ? 'InternalServerError' : 'BadRequestError';
  sendJson(res, status, { error: { message, type, param, code: status } });
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
