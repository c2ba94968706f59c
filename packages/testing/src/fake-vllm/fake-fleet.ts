import type { FakeVllmOptions } from './fake-options.js';
import { FakeVllmServer } from './fake-vllm-server.js';

/** Several fake servers started together; `close()` stops them all. */
export interface FakeFleet {
  readonly servers: readonly FakeVllmServer[];
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/** Starts one fake server per options object (each on its own free port). */
export async function startFakeFleet(options: readonly FakeVllmOptions[]): Promise<FakeFleet> {
  const started = await Promise.allSettled(options.map((o) => FakeVllmServer.start(o)));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async () => void (await Promise.all(servers.map((s) => s.close())));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { servers, urls: servers.map((s) => s.url), close };
}
