import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DifferadError } from '@differad/core';
import sharp, { type Sharp } from 'sharp';

/** Pixel storage of a raw image: 8-bit (`Uint8Array`) or 16-bit (`Uint16Array`) samples. */
export type PixelData = Uint8Array | Uint16Array;

/**
 * Interleaved pixels, row-major, `channels` samples per pixel: 1 grey, 3 RGB,
 * 4 RGBA. 8-bit unless the type parameter says 16-bit.
 */
export interface RawImage<D extends PixelData = Uint8Array> {
  readonly data: D;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
}

/** Output formats the writers choose from a file's extension. */
export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'tiff'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Encoder settings shared by every writer of this package. */
export interface EncodeOptions {
  /** JPEG/WebP quality 1–100 (default 92). */
  readonly quality?: number;
  /** PNG zlib level 0–9 (default 6). */
  readonly compressionLevel?: number;
}

/** The output format implied by a path's extension; PNG when the extension is not known. */
export function toOutputFormat(path: string): OutputFormat {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === 'jpg' || ext === 'jpeg') return 'jpeg';
  if (ext === 'webp') return 'webp';
  if (ext === 'tif' || ext === 'tiff') return 'tiff';
  return 'png';
}

/** Whether the samples are 16-bit. */
export function isRawImage16(image: RawImage<PixelData>): image is RawImage<Uint16Array> {
  return image.data instanceof Uint16Array;
}

/**
 * A sharp pipeline over raw pixels with the colour interpretation set, so a
 * one-channel image stays grey and 16-bit samples stay 16-bit where the
 * output format can hold them.
 */
export function toSharp(image: RawImage<PixelData>): Sharp {
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) {
    throw new DifferadError('IMAGE_ENCODE_FAILED', `${data.length} samples do not make a ${width}×${height}×${channels} image`);
  }
  const deep = isRawImage16(image);
  const space = channels === 1 ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb';
  return sharp(data, { raw: { width, height, channels } }).toColourspace(space);
}

/** Applies the encoder of `format` to a pipeline. 16-bit survives PNG and TIFF only. */
export function withEncoder(pipeline: Sharp, format: OutputFormat, options: EncodeOptions = {}): Sharp {
  const quality = options.quality ?? 92;
  switch (format) {
    case 'jpeg':
      return pipeline.jpeg({ quality });
    case 'webp':
      return pipeline.webp({ quality });
    case 'tiff':
      // sharp's TIFF default is JPEG compression, which would drop to 8 bits and lose detail.
      return pipeline.tiff({ compression: 'lzw' });
    case 'png':
      return pipeline.png({ compressionLevel: options.compressionLevel ?? 6 });
  }
}

/** Encodes raw pixels to the bytes of an image file. */
export async function encodeRawImage(image: RawImage<PixelData>, format: OutputFormat, options: EncodeOptions = {}): Promise<Buffer> {
  try {
    return await withEncoder(toSharp(image), format, options).toBuffer();
  } catch (cause) {
    if (cause instanceof DifferadError) throw cause;
    throw new DifferadError('IMAGE_ENCODE_FAILED', `cannot encode ${format}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Writes bytes through a temporary sibling and a rename, so a crash or a
 * concurrent reader never sees half a file; creates the folder.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new DifferadError('IMAGE_ENCODE_FAILED', `cannot write ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
}

/**
 * Writes raw pixels as PNG, JPEG, WebP or TIFF (by extension), atomically,
 * creating the folder. 16-bit images stay 16-bit in PNG and TIFF.
 */
export async function writeRawImage(path: string, image: RawImage<PixelData>, options: EncodeOptions = {}): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await encodeRawImage(image, toOutputFormat(path), options);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new DifferadError('IMAGE_ENCODE_FAILED', `cannot write ${path}: ${message}`, { cause, details: { path } });
  }
  await writeFileAtomic(path, bytes);
}
