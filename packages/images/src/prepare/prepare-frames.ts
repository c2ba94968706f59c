import { createHash } from 'node:crypto';
import { computeResizedSize, DEFAULT_RESIZE, type ImageSize, type ResizeOptions } from '@differad/core';
import { type DecodeLimits, openImage, toDecodeError } from '../decode/open-image.js';
import { fingerprintFile, type ImageSource, readSourceBytes } from '../decode/read-source.js';
import { type CacheStats, createByteLruCache } from './byte-lru-cache.js';

/** Resampling kernels sharp offers for the model-frame resize. */
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

/** Settings of model-frame preparation. */
export interface FramePrepareOptions {
  /** The Qwen-style resize (default core's DEFAULT_RESIZE). */
  readonly resize?: ResizeOptions;
  /** Encoding of the data URL (default 'png': lossless, so small defects survive). */
  readonly format?: 'jpeg' | 'png';
  /** JPEG quality 1–100 (default 95). */
  readonly quality?: number;
  /** PNG zlib level 0–9 (default 3: data URLs favour speed over size). */
  readonly compressionLevel?: number;
  /** Resize kernel (default 'cubic', as the Qwen processors' bicubic resample). */
  readonly kernel?: ResizeKernel;
  /** Bound of the content-hash cache in bytes of data URL (default 256 MiB; 0 disables it). */
  readonly maxCacheBytes?: number;
  /** Decode limits for the inputs. */
  readonly limits?: DecodeLimits;
}

/** One image in the model frame, ready to send as an `image_url` part. */
export interface PreparedImage {
  /** `data:image/png;base64,…` or `data:image/jpeg;base64,…`. */
  readonly dataUrl: string;
  /** sha256 (hex) of the input bytes and the settings: the content hash the cache is keyed by. */
  readonly key: string;
  /** Size in the model frame (core's computeResizedSize of the original). */
  readonly width: number;
  readonly height: number;
  /** Size of the input as displayed (EXIF orientation applied): the `pixels` frame. */
  readonly original: ImageSize;
  readonly mimeType: 'image/jpeg' | 'image/png';
  /** Size of the encoded image before base64. */
  readonly encodedBytes: number;
}

/** A reference/target pair in the model frame; the reference goes first in a request. */
export interface PreparedPair {
  readonly reference: PreparedImage;
  readonly target: PreparedImage;
}

/** Prepares images for the model with a content-hash cache, so a pair prepared once is never re-encoded. */
export interface FramePreparer {
  /** One image; `name` labels an in-memory buffer in errors. */
  prepareImage(source: ImageSource, name?: string): Promise<PreparedImage>;
  /** Both images of a pair, concurrently. */
  preparePair(
    reference: ImageSource,
    target: ImageSource,
    names?: { readonly reference?: string; readonly target?: string },
  ): Promise<PreparedPair>;
  /** Hits, misses (= encodes), evictions, entries and bytes of the cache. */
  stats(): CacheStats;
  /** Empties the cache (counters are kept). */
  clear(): void;
}

/** Defaults of FramePrepareOptions. */
export const DEFAULT_FRAME_PREPARE = Object.freeze({
  format: 'png' as const,
  quality: 95,
  compressionLevel: 3,
  kernel: 'cubic' as ResizeKernel,
  maxCacheBytes: 256 * 1024 * 1024,
});

// Fixed per-entry overhead so that many tiny entries still count against the bound.
const ENTRY_OVERHEAD_BYTES = 512;

// Paths whose content hash is remembered; past this many the oldest are forgotten (a re-read and re-hash when met again).
const MAX_KNOWN_FILES = 100_000;

/**
 * Creates a frame preparer: decode (with limits and orientation), flatten
 * alpha onto white and convert to sRGB (as qwen-vl-utils' to_rgb), resize to
 * core's computeResizedSize, encode, base64. Results are cached by sha256 of
 * the input bytes plus the settings, in an LRU bounded in bytes; concurrent
 * requests for the same content share one encode. A file's content hash is
 * remembered with its fingerprint (device, inode, size, mtime, ctime), so a
 * cache hit on an unchanged file costs one stat instead of a read and a
 * sha256 of its bytes; a changed file is read and hashed again.
 */
export function createFramePreparer(options: FramePrepareOptions = {}): FramePreparer {
  const resize = options.resize ?? DEFAULT_RESIZE;
  const format = options.format ?? DEFAULT_FRAME_PREPARE.format;
  const quality = options.quality ?? DEFAULT_FRAME_PREPARE.quality;
  const compressionLevel = options.compressionLevel ?? DEFAULT_FRAME_PREPARE.compressionLevel;
  const kernel = options.kernel ?? DEFAULT_FRAME_PREPARE.kernel;
  const limits = options.limits ?? {};
  const cache = createByteLruCache<PreparedImage>(options.maxCacheBytes ?? DEFAULT_FRAME_PREPARE.maxCacheBytes);
  const inFlight = new Map<string, Promise<PreparedImage>>();
  const settings = JSON.stringify({
    v: 1,
    resize: [resize.factor, resize.minPixels, resize.maxPixels],
    format,
    encoder: format === 'jpeg' ? quality : compressionLevel,
    kernel,
  });
  const mimeType = format === 'jpeg' ? 'image/jpeg' : 'image/png';

  async function encode(bytes: Buffer, label: string, key: string): Promise<PreparedImage> {
    const opened = await openImage(bytes, { ...limits, name: label });
    const original = { width: opened.info.width, height: opened.info.height };
    const size = computeResizedSize(original, resize);
    let encoded: Buffer;
    try {
      const pipeline = opened
        .pipeline()
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .resize(size.width, size.height, { fit: 'fill', kernel });
      encoded = await (format === 'jpeg' ? pipeline.jpeg({ quality }) : pipeline.png({ compressionLevel })).toBuffer();
    } catch (cause) {
      throw toDecodeError(cause, label, opened.info.format);
    }
    return Object.freeze({
      dataUrl: `data:${mimeType};base64,${encoded.toString('base64')}`,
      key,
      width: size.width,
      height: size.height,
      original: Object.freeze(original),
      mimeType,
      encodedBytes: encoded.length,
    });
  }

  // Path → the fingerprint it had when read and the cache key of its bytes then.
  const knownFiles = new Map<string, { readonly fingerprint: string; readonly key: string }>();

  /** The cached or in-flight preparation under `key`, counted as a hit; undefined when there is none. */
  function lookup(key: string): Promise<PreparedImage> | PreparedImage | undefined {
    const pending = inFlight.get(key);
    if (pending !== undefined) {
      // Shares an encode already under way: no second encode, so it counts as a hit.
      cache.recordHit();
      return pending;
    }
    return cache.has(key) ? cache.get(key) : undefined;
  }

  function rememberFile(path: string, fingerprint: string, key: string): void {
    knownFiles.delete(path);
    knownFiles.set(path, { fingerprint, key });
    if (knownFiles.size > MAX_KNOWN_FILES) knownFiles.delete(knownFiles.keys().next().value!);
  }

  async function prepareImage(source: ImageSource, name?: string): Promise<PreparedImage> {
    const readOptions = {
      ...(limits.maxInputBytes === undefined ? {} : { maxInputBytes: limits.maxInputBytes }),
      ...(name === undefined ? {} : { name }),
    };
    const fingerprint = typeof source === 'string' ? await fingerprintFile(source, readOptions) : null;
    const known = typeof source === 'string' ? knownFiles.get(source) : undefined;
    if (known !== undefined && known.fingerprint === fingerprint) {
      const hit = lookup(known.key);
      if (hit !== undefined) return hit;
    }
    const { bytes, label } = await readSourceBytes(source, readOptions);
    const key = createHash('sha256').update(bytes).update('\0').update(settings).digest('hex');
    // The fingerprint is from before the read: a file changed in between reads as changed next time, never the reverse.
    if (typeof source === 'string' && fingerprint !== null) rememberFile(source, fingerprint, key);
    const pending = inFlight.get(key);
    if (pending !== undefined) {
      // Shares an encode already under way: no second encode, so it counts as a hit.
      cache.recordHit();
      return pending;
    }
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const work = encode(bytes, label, key)
      .then((prepared) => {
        cache.set(key, prepared, prepared.dataUrl.length + ENTRY_OVERHEAD_BYTES);
        return prepared;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, work);
    return work;
  }

  return {
    prepareImage,
    async preparePair(reference, target, names = {}) {
      const [r, t] = await Promise.all([prepareImage(reference, names.reference), prepareImage(target, names.target)]);
      return { reference: r, target: t };
    },
    stats: () => cache.stats(),
    clear: () => {
      cache.clear();
      knownFiles.clear();
    },
  };
}
