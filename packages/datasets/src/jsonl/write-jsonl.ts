import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { DifferadError } from '@differad/core';

/** Writes one JSON value per line to a temporary file, then renames it onto `path`: never a partial file. */
export async function writeJsonlAtomically(path: string, lines: Iterable<unknown> | AsyncIterable<unknown>): Promise<number> {
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  let count = 0;
  await mkdir(dirname(path), { recursive: true });
  const stream = createWriteStream(tmp, { encoding: 'utf8' });
  try {
    for await (const line of lines) {
      count++;
      if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
    }
    stream.end();
    await once(stream, 'finish');
    await rename(tmp, path);
    return count;
  } catch (cause) {
    stream.destroy();
    await rm(tmp, { force: true });
    if (cause instanceof DifferadError) throw cause;
    throw new DifferadError('OUTPUT_WRITE_FAILED', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}
