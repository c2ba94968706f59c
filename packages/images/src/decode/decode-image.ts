import type { ImageSize } from '@differad/core';
import type { Sharp } from 'sharp';
import type { PixelData, RawImage } from '../encode/write-image.js';
import { type DecodeLimits, type ImageInfo, openImage, type OpenedImage, toDecodeError } from './open-image.js';
import type { ImageSource } from './read-source.js';
import type { ImageFormat } from './sniff-format.js';

/** Decode settings: the limits plus the pixel layout wanted. */
export interface DecodeOptions extends DecodeLimits {
  /**
   * Channels of the result: 'auto' (default) keeps grey as 1, colour as 3 and
   * anything with alpha as 4 (grey+alpha becomes RGBA); 1, 3 or 4 convert.
   */
  readonly channels?: 'auto' | 1 | 3 | 4;
  /** Sample depth of the result (default 8; 16 scales 8-bit sources up). */
  readonly depth?: 8 | 16;
}

/** A decoded image: oriented pixels plus what the file held. */
export interface DecodedImage<D extends PixelData = Uint8Array> extends RawImage<D> {
  readonly format: ImageFormat;
  /** Bit depth in the file. */
  readonly sourceBitDepth: 8 | 16;
  /** Samples per pixel in the file. */
  readonly sourceChannels: number;
  /** EXIF orientation of the file, already applied to the pixels. */
  readonly orientation: number;
}

function toChannels(info: ImageInfo, wanted: DecodeOptions['channels']): 1 | 3 | 4 {
  if (wanted !== undefined && wanted !== 'auto') return wanted;
  if (info.hasAlpha) return 4;
  return info.grey ? 1 : 3;
}

/** Pixel-layout steps of a decode: alpha, colour space and sample depth. */
export function toLayout(pipeline: Sharp, channels: 1 | 3 | 4, depth: 8 | 16): Sharp {
  const shaped = channels === 4 ? pipeline.ensureAlpha(1) : pipeline.removeAlpha();
  const space = channels === 1 ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb';
  return shaped.toColourspace(space).raw({ depth: depth === 16 ? 'ushort' : 'uchar' });
}

async function decodeOpened(opened: OpenedImage, options: DecodeOptions): Promise<DecodedImage<PixelData>> {
  const channels = toChannels(opened.info, options.channels);
  const depth = options.depth ?? 8;
  let result: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    result = await toLayout(opened.pipeline(), channels, depth).toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw toDecodeError(cause, opened.label, opened.info.format);
  }
  const { data, info } = result;
  if (info.channels !== channels) {
    throw toDecodeError(new Error(`decoded ${info.channels} channels, expected ${channels}`), opened.label, opened.info.format);
  }
  const common = {
    width: info.width,
    height: info.height,
    channels,
    format: opened.info.format,
    sourceBitDepth: opened.info.bitDepth,
    sourceChannels: opened.info.channels,
    orientation: opened.info.orientation,
  };
  if (depth === 8) return { ...common, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  // A Uint16Array view needs an even byte offset; copy in the rare case it is not.
  const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
  return { ...common, data: new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2) };
}

/**
 * Decodes an image file or buffer with limits: JPEG, PNG, WebP or TIFF, 8- or
 * 16-bit, grey/RGB/RGBA, EXIF orientation applied. Errors are DifferadErrors
 * naming the file: IMAGE_NOT_FOUND, IMAGE_UNSUPPORTED_FORMAT, IMAGE_TOO_LARGE,
 * IMAGE_DECODE_FAILED (corrupt or truncated), IMAGE_READ_FAILED.
 */
export function decodeImage(source: ImageSource, options: DecodeOptions & { readonly depth: 16 }): Promise<DecodedImage<Uint16Array>>;
export function decodeImage(source: ImageSource, options?: DecodeOptions & { readonly depth?: 8 }): Promise<DecodedImage>;
export function decodeImage(source: ImageSource, options?: DecodeOptions): Promise<DecodedImage<PixelData>>;
export async function decodeImage(source: ImageSource, options: DecodeOptions = {}): Promise<DecodedImage<PixelData>> {
  return decodeOpened(await openImage(source, options), options);
}

/** Header facts of an image (format, oriented size, channels, depth) without decoding pixels. */
export async function readImageInfo(source: ImageSource, limits: DecodeLimits = {}): Promise<ImageInfo> {
  return (await openImage(source, limits)).info;
}

/** Width and height of an image as displayed (EXIF orientation applied), from its header only. */
export async function readImageSize(source: ImageSource, limits: DecodeLimits = {}): Promise<ImageSize> {
  const { width, height } = await readImageInfo(source, limits);
  return { width, height };
}
