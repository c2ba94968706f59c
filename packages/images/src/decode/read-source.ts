import { statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { DifferadError } from '@differad/core';

/** An image given by its file path or by its encoded bytes (a Buffer is a Uint8Array). */
export type ImageSource = string | Uint8Array;

/** Encoded bytes of an image and the name errors use for it. */
export interface SourceBytes {
  readonly bytes: Buffer;
  /** The path, or `name` / `<buffer>` for in-memory input. */
  readonly label: string;
}

/** Default ceiling on an image file's size, checked before reading it into memory. */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;

const RETRYABLE_FS = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EIO']);

function toReadError(cause: unknown, path: string): DifferadError {
  const code = (cause as NodeJS.ErrnoException).code ?? '';
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new DifferadError('IMAGE_NOT_FOUND', `${path}: no such image file`, { cause, details: { path } });
  }
  return new DifferadError('IMAGE_READ_FAILED', `${path}: cannot read image file (${code || (cause as Error).message})`, {
    cause,
    retryable: RETRYABLE_FS.has(code),
    details: { path },
  });
}

/**
 * Reads the bytes of an image source. Paths are stat-ed first so a file over
 * `maxInputBytes` is refused before it is read; missing files become
 * IMAGE_NOT_FOUND, other I/O failures IMAGE_READ_FAILED.
 */
export async function readSourceBytes(
  source: ImageSource,
  options: { readonly name?: string; readonly maxInputBytes?: number } = {},
): Promise<SourceBytes> {
  const maxBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  if (typeof source !== 'string') {
    const bytes = Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    const label = options.name ?? '<buffer>';
    if (bytes.length > maxBytes) throw tooManyBytes(label, bytes.length, maxBytes);
    return { bytes, label };
  }
  const label = options.name ?? source;
  try {
    const info = await stat(source);
    if (!info.isFile()) {
      throw new DifferadError('IMAGE_READ_FAILED', `${label}: not a regular file`, { details: { path: source } });
    }
    if (info.size > maxBytes) throw tooManyBytes(label, info.size, maxBytes);
    return { bytes: await readFile(source), label };
  } catch (cause) {
    if (cause instanceof DifferadError) throw cause;
    throw toReadError(cause, label);
  }
}

/**
 * What identifies a file's content without reading it: device, inode, size
 * and modification and change times in nanoseconds. A file written again
 * (even to the same size), or replaced by a rename, gets another fingerprint.
 * The same checks and errors as {@link readSourceBytes}.
 *
 * The stat is synchronous: every rollout fingerprints both of its images, and
 * a stat through the thread pool costs ~28 µs of CPU (hand-off and wake-up)
 * where the system call itself costs ~2.5 µs (node 20, a local disk). A file
 * system whose stat blocks for long (a remote mount without attribute
 * caching) would hold the event loop that long once per image.
 */
export async function fingerprintFile(
  path: string,
  options: { readonly name?: string; readonly maxInputBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const label = options.name ?? path;
  try {
    const info = statSync(path, { bigint: true });
    if (!info.isFile()) {
      throw new DifferadError('IMAGE_READ_FAILED', `${label}: not a regular file`, { details: { path } });
    }
    if (info.size > BigInt(maxBytes)) throw tooManyBytes(label, Number(info.size), maxBytes);
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  } catch (cause) {
    if (cause instanceof DifferadError) throw cause;
    throw toReadError(cause, label);
  }
}

function tooManyBytes(label: string, size: number, max: number): DifferadError {
  return new DifferadError('IMAGE_TOO_LARGE', `${label}: file of ${size} bytes exceeds the limit of ${max} bytes`, {
    details: { path: label, bytes: size, maxInputBytes: max },
  });
}
