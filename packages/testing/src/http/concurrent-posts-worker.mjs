// The worker thread of concurrent-posts.ts: POSTs `clients` bodies of `bytes`
// at once with fetch and posts back, for each, "<status> <error.code>" or the
// fetch failure ("fetch failed: write EPIPE").
/* global fetch, ReadableStream, Buffer */
import { parentPort, workerData } from 'node:worker_threads';

const { url, headers, streamed, clients, bytes } = workerData;
const body = JSON.stringify({ pad: 'x'.repeat(Math.max(0, bytes - 10)) });

/** The body as 64 KiB chunks: sent chunked, without a Content-Length, so only reading it finds the size. */
function toStream(text) {
  const all = Buffer.from(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= all.length) return controller.close();
      controller.enqueue(all.subarray(at, (at += 64 * 1024)));
    },
  });
}

async function post() {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: streamed ? toStream(body) : body,
      ...(streamed ? { duplex: 'half' } : {}),
    });
    const text = await res.text();
    let code;
    try {
      code = JSON.parse(text).error?.code;
    } catch {
      code = undefined;
    }
    return `${res.status} ${code}`;
  } catch (error) {
    return `${error.message}: ${error.cause?.message ?? ''}`;
  }
}

parentPort.postMessage(await Promise.all(Array.from({ length: clients }, post)));
