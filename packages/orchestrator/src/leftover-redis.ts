import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connectRedis } from '@differad/queue';
import { z } from 'zod';

/** Where `differad train` notes the embedded redis-server it runs on a runs folder's `.redis` dir. */
const OWNER_FILE = 'embedded-server.json';

const OwnerSchema = z.object({ url: z.string(), pid: z.int() });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Notes the embedded server on `dir` (removed again by {@link forgetEmbeddedRedis} when the run stops it). */
export async function recordEmbeddedRedis(dir: string, server: { readonly url: string; readonly pid: number }): Promise<void> {
  await writeFile(join(dir, OWNER_FILE), `${JSON.stringify({ url: server.url, pid: server.pid })}\n`);
}

/** The embedded server on `dir` was stopped. */
export async function forgetEmbeddedRedis(dir: string): Promise<void> {
  await rm(join(dir, OWNER_FILE), { force: true });
}

/**
 * A `differad train` killed with SIGKILL (OOM killer, `kill -9`) cannot stop
 * its redis-server child, which goes on running on the run's AOF. Before a new
 * embedded server is started on the same `dir` (two servers appending to one
 * AOF interleave two histories), that leftover is shut down: `SHUTDOWN` makes
 * it flush its AOF and exit. Only a server that says its dir is `dir` is
 * touched. Returns the URL of the server that was stopped, or null.
 */
export async function stopLeftoverRedis(dir: string): Promise<string | null> {
  const text = await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => null);
  const owner = text === null ? null : OwnerSchema.safeParse(parseJson(text));
  if (!owner?.success || !isAlive(owner.data.pid)) return null;
  const { url } = owner.data;
  const client = await connectRedis(url, 'producer', 1_000).catch(() => null);
  if (!client) return null;
  try {
    const reply = (await client.config('GET', 'dir')) as string[];
    if (reply[1] === undefined || resolve(reply[1]) !== resolve(dir)) return null;
    // The server exits without answering: the closed connection is the reply.
    await client.call('SHUTDOWN').catch(() => undefined);
    return url;
  } finally {
    client.disconnect();
  }
}
