import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { DifferadError, type ManifestRecord, ManifestRecordSchema, MANIFEST_VERSION, toFieldProblems } from '@differad/core';

/** Streams manifest records to a temporary file; only `commit()` puts the manifest in place. */
export interface ManifestWriter {
  readonly path: string;
  /** Records written so far. */
  readonly count: number;
  /** Validates and appends one record (adds `version` when absent); throws `MANIFEST_INVALID` on a bad record. */
  write(record: ManifestRecord): Promise<void>;
  /** Finishes the temporary file and renames it onto `path` (atomic on one file system). */
  commit(): Promise<void>;
  /** Removes the temporary file; the previous manifest at `path`, if any, is untouched. */
  abort(): Promise<void>;
}

function failed(path: string, cause: unknown): DifferadError {
  return new DifferadError('OUTPUT_WRITE_FAILED', `cannot write ${path}: ${(cause as Error).message}`, { cause });
}

/**
 * Opens a manifest for writing. Nothing appears at `path` until `commit()`,
 * so a failed import never leaves a partial manifest behind.
 */
export async function createManifestWriter(path: string): Promise<ManifestWriter> {
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  let stream: WriteStream;
  let streamError: Error | undefined;
  try {
    await mkdir(dirname(path), { recursive: true });
    stream = createWriteStream(tmp, { encoding: 'utf8' });
    await once(stream, 'open');
    // Errors surface through write()/commit(); this listener keeps a write that
    // was still in flight when abort() destroyed the stream from crashing the process.
    stream.on('error', (error) => void (streamError ??= error));
  } catch (cause) {
    throw failed(path, cause);
  }
  const ids = new Set<string>();
  let count = 0;
  let open = true;
  const abort = async () => {
    open = false;
    stream.destroy();
    await rm(tmp, { force: true });
  };
  return {
    path,
    get count() {
      return count;
    },
    async write(record) {
      if (!open) throw new DifferadError('OUTPUT_WRITE_FAILED', `manifest ${path} is already closed`);
      if (streamError !== undefined) throw failed(path, streamError);
      const line = { version: MANIFEST_VERSION, ...record };
      const parsed = ManifestRecordSchema.safeParse(line);
      const problem = !parsed.success
        ? toFieldProblems(parsed.error)
            .map((p) => `${p.field}: ${p.message}`)
            .join('; ')
        : ids.has(record.id)
          ? `id: duplicate id "${record.id}"`
          : null;
      if (problem !== null) throw new DifferadError('MANIFEST_INVALID', `record ${count + 1} for ${path} is invalid: ${problem}`);
      ids.add(record.id);
      count++;
      if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
    },
    async commit() {
      if (!open) throw new DifferadError('OUTPUT_WRITE_FAILED', `manifest ${path} is already closed`);
      open = false;
      try {
        stream.end();
        await once(stream, 'finish');
        await rename(tmp, path);
      } catch (cause) {
        await abort();
        throw failed(path, cause);
      }
    },
    abort,
  };
}

/** Writes all `records` as a manifest at `path`, atomically (temporary file, then rename). */
export async function writeManifest(path: string, records: Iterable<ManifestRecord> | AsyncIterable<ManifestRecord>): Promise<number> {
  const writer = await createManifestWriter(path);
  try {
    for await (const record of records) await writer.write(record);
    await writer.commit();
    return writer.count;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
