import { type CompletionRequest, parseChatResponse, toChatRequestBody } from '@differad/inference';
import { Pool } from 'undici';

/** What one finished request contributes to the figures. */
export interface Finished {
  readonly at: number;
  readonly tokens: number;
}

/**
 * The baseline: a fixed number of workers, each sending its next request to
 * the next server in round-robin order and waiting for the answer. Same HTTP
 * stack (one undici Pool per server) and the same parsing as the fleet.
 */
export async function runNaive(
  urls: readonly string[],
  model: string,
  requests: readonly CompletionRequest[],
  concurrency: number,
): Promise<Finished[]> {
  const pools = urls.map((u) => new Pool(u, { connections: 256, headersTimeout: 0, bodyTimeout: 0 }));
  const finished: Finished[] = [];
  let next = 0;
  let turn = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const pool = pools[turn++ % pools.length]!;
      const body = toChatRequestBody(model, request);
      const res = await pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const parsed = parseChatResponse(await res.body.json(), { n: request.n, logprobs: true, tokenIds: true });
      if (parsed.kind !== 'ok') throw new Error(`naive client: bad response ${parsed.field}`);
      finished.push({ at: performance.now(), tokens: parsed.choices.reduce((a, c) => a + (c.tokenIds?.length ?? 0), 0) });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return finished;
}
