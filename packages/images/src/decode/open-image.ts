import { DifferadError } from '@differad/core';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { type ImageSource, readSourceBytes, DEFAULT_MAX_INPUT_BYTES } from './read-source.js';
import { IMAGE_FORMATS, type ImageFormat, sniffImageFormat } from './sniff-format.js';

/** How strictly libvips treats damaged pixel data (sharp's `failOn`, least to most strict). */
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

/** Limits every decode in this package applies to untrusted input. */
export interface DecodeLimits {
  /** Largest width×height accepted, against decompression bombs (default 40 MP). */
  readonly maxInputPixels?: number;
  /** Largest encoded size accepted (default 256 MiB). */
  readonly maxInputBytes?: number;
  /** Accepted formats, a subset of IMAGE_FORMATS (default all of them). */
  readonly formats?: readonly ImageFormat[];
  /** Default 'error': truncated or corrupt pixel data fails, mere warnings do not. */
  readonly failOn?: FailOn;
  /** Name used in errors for in-memory input (default `<buffer>`). */
  readonly name?: string;
}

/** The defaults of DecodeLimits. */
export const DEFAULT_DECODE_LIMITS = Object.freeze({
  maxInputPixels: 40_000_000,
  maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
  formats: IMAGE_FORMATS,
  failOn: 'error' as FailOn,
});

/** What the header of an image says, with width and height after EXIF orientation. */
export interface ImageInfo {
  readonly format: ImageFormat;
  /** Width as displayed, i.e. after applying the EXIF orientation. */
  readonly width: number;
  /** Height as displayed, i.e. after applying the EXIF orientation. */
  readonly height: number;
  /** EXIF orientation 1–8 (1 when absent). */
  readonly orientation: number;
  /** Samples per pixel in the file, alpha included. */
  readonly channels: number;
  readonly bitDepth: 8 | 16;
  readonly hasAlpha: boolean;
  /** True for grey (or grey+alpha) images. */
  readonly grey: boolean;
}

/** A validated image: its bytes, its header, and a way to start a guarded sharp pipeline on it. */
export interface OpenedImage {
  readonly bytes: Buffer;
  readonly label: string;
  readonly info: ImageInfo;
  /** A sharp pipeline with orientation applied and the pixel limit and failOn set. */
  pipeline(): Sharp;
}

/** Maps a sharp failure on `label` to this package's error codes. */
export function toDecodeError(cause: unknown, label: string, format?: string): DifferadError {
  if (cause instanceof DifferadError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(message)) {
    return new DifferadError('IMAGE_TOO_LARGE', `${label}: image exceeds the pixel limit (${message})`, {
      cause,
      details: { path: label },
    });
  }
  const what = format === undefined ? 'image' : `${format} image`;
  return new DifferadError('IMAGE_DECODE_FAILED', `${label}: corrupt or truncated ${what} (${message})`, {
    cause,
    details: { path: label, ...(format === undefined ? {} : { format }) },
  });
}

function checkFormat(bytes: Uint8Array, label: string, allowed: readonly ImageFormat[]): ImageFormat {
  const sniffed = sniffImageFormat(bytes);
  if (sniffed.kind === 'unknown') {
    throw new DifferadError('IMAGE_DECODE_FAILED', `${label}: not a recognizable image (expected ${allowed.join(', ')})`, {
      details: { path: label },
    });
  }
  if (sniffed.kind === 'unsupported' || !allowed.includes(sniffed.format)) {
    throw new DifferadError(
      'IMAGE_UNSUPPORTED_FORMAT',
      `${label}: ${sniffed.format} images are not supported (use ${allowed.join(', ')})`,
      {
        details: { path: label, format: sniffed.format },
      },
    );
  }
  return sniffed.format;
}

function toBitDepth(depth: string, label: string): 8 | 16 {
  if (depth === 'uchar') return 8;
  if (depth === 'ushort') return 16;
  throw new DifferadError('IMAGE_UNSUPPORTED_FORMAT', `${label}: ${depth} samples are not supported (8- or 16-bit unsigned only)`, {
    details: { path: label, depth },
  });
}

/**
 * Reads an image source and validates it from its header only: magic bytes
 * against the allowed formats, metadata readable, width×height within the
 * pixel limit (checked here so a bomb is refused before any pixel is decoded,
 * and again by libvips' own limitInputPixels during decoding).
 */
export async function openImage(source: ImageSource, limits: DecodeLimits = {}): Promise<OpenedImage> {
  const maxInputPixels = limits.maxInputPixels ?? DEFAULT_DECODE_LIMITS.maxInputPixels;
  const failOn = limits.failOn ?? DEFAULT_DECODE_LIMITS.failOn;
  const readOptions = {
    maxInputBytes: limits.maxInputBytes ?? DEFAULT_DECODE_LIMITS.maxInputBytes,
    ...(limits.name === undefined ? {} : { name: limits.name }),
  };
  const { bytes, label } = await readSourceBytes(source, readOptions);
  const format = checkFormat(bytes, label, limits.formats ?? IMAGE_FORMATS);
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw toDecodeError(cause, label, format);
  }
  if (meta.format !== format) {
    throw new DifferadError('IMAGE_DECODE_FAILED', `${label}: starts like ${format} but decodes as ${meta.format}`, {
      details: { path: label },
    });
  }
  if (!(meta.width > 0 && meta.height > 0)) {
    throw new DifferadError('IMAGE_DECODE_FAILED', `${label}: header has no size`, { details: { path: label } });
  }
  if (meta.width * meta.height > maxInputPixels) {
    throw new DifferadError(
      'IMAGE_TOO_LARGE',
      `${label}: ${meta.width}×${meta.height} = ${meta.width * meta.height} pixels exceeds the limit of ${maxInputPixels}`,
      { details: { path: label, width: meta.width, height: meta.height, maxInputPixels } },
    );
  }
  const info: ImageInfo = Object.freeze({
    format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    orientation: meta.orientation ?? 1,
    channels: meta.channels,
    bitDepth: toBitDepth(meta.depth, label),
    hasAlpha: meta.hasAlpha,
    grey: meta.space === 'b-w' || meta.space === 'grey16',
  });
  return {
    bytes,
    label,
    info,
    pipeline: () => sharp(bytes, { autoOrient: true, limitInputPixels: maxInputPixels, failOn }),
  };
}
