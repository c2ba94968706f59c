import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** What {@link postConcurrently} sends. */
export interface ConcurrentPostOptions {
  /** How many POSTs go out at once. */
  readonly clients: number;
  /** Size of each JSON body (`{"pad":"xxx…"}`), in bytes. */
  readonly bytes: number;
  /** Send the body chunked, without a Content-Length (the server only learns its size by reading). */
  readonly streamed?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * POSTs `clients` JSON bodies to `url` at once with fetch and resolves with,
 * for each, `"<status> <error.code of the JSON body>"` or the fetch failure
 * (`"fetch failed: write EPIPE"`). The clients run in a worker thread, as a
 * separate process would: on the server's own event loop they always read
 * the reply before writing again, which hides a server that resets the
 * connection while a body is still arriving.
 */
export async function postConcurrently(url: string, options: ConcurrentPostOptions): Promise<string[]> {
  const workerData = {
    url,
    headers: options.headers ?? {},
    streamed: options.streamed ?? false,
    clients: options.clients,
    bytes: options.bytes,
  };
  const worker = new Worker(new URL('./concurrent-posts-worker.mjs', import.meta.url), { workerData });
  try {
    // once() rejects when the worker fails first.
    const [outcomes] = (await once(worker, 'message')) as [string[]];
    return outcomes;
  } finally {
    await worker.terminate();
  }
}
