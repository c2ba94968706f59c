import { type Box, DifferadError, type ImageSize } from '@differad/core';
import type { Sharp } from 'sharp';
import { type DecodeLimits, type ImageInfo, openImage, toDecodeError } from '../decode/open-image.js';
import type { ImageSource } from '../decode/read-source.js';
import type { ResizeKernel } from '../prepare/prepare-frames.js';
import {
  type EncodeOptions,
  type PixelData,
  type RawImage,
  toOutputFormat,
  toSharp,
  withEncoder,
  writeFileAtomic,
} from '../encode/write-image.js';

/** Options of the file-to-file helpers. */
export interface TransformFileOptions extends EncodeOptions {
  readonly limits?: DecodeLimits;
}

/** Options of the resize helpers. */
export interface ResizeImageOptions {
  /** Default 'cubic'; use 'nearest' for masks so they stay binary. */
  readonly kernel?: ResizeKernel;
  /** 'fill' (default) stretches to the size; 'contain' letterboxes; 'cover' crops. */
  readonly fit?: 'fill' | 'contain' | 'cover';
}

/** Throws IMAGE_CROP_OUT_OF_BOUNDS unless `window` is an integer box of positive area inside `size`. */
export function checkCropWindow(window: Box, size: ImageSize, label: string): void {
  const [x1, y1, x2, y2] = window;
  const ok = window.every(Number.isInteger) && x1 >= 0 && y1 >= 0 && x2 > x1 && y2 > y1 && x2 <= size.width && y2 <= size.height;
  if (!ok) {
    throw new DifferadError(
      'IMAGE_CROP_OUT_OF_BOUNDS',
      `${label}: crop window [${window.join(', ')}] is not an integer box of positive area inside ${size.width}×${size.height}`,
      { details: { path: label, window: [...window], width: size.width, height: size.height } },
    );
  }
}

/** The window `[x1, y1, x2, y2]` (x2/y2 exclusive) of raw pixels, copied. */
export function cropRawImage<D extends PixelData>(image: RawImage<D>, window: Box): RawImage<D> {
  checkCropWindow(window, image, 'image');
  const [x1, y1, x2, y2] = window;
  const { channels } = image;
  const width = x2 - x1;
  const height = y2 - y1;
  const rowLength = width * channels;
  const data = (image.data instanceof Uint16Array ? new Uint16Array(rowLength * height) : new Uint8Array(rowLength * height)) as D;
  for (let y = 0; y < height; y++) {
    const from = ((y1 + y) * image.width + x1) * channels;
    data.set(image.data.subarray(from, from + rowLength), y * rowLength);
  }
  return { data, width, height, channels };
}

/** Keeps grey as grey and 16-bit as 16-bit where the output format can hold it. */
function keepLayout(pipeline: Sharp, info: ImageInfo, output: string): Sharp {
  const format = toOutputFormat(output);
  const deep = info.bitDepth === 16 && (format === 'png' || format === 'tiff');
  return pipeline.toColourspace(info.grey ? (deep ? 'grey16' : 'b-w') : deep ? 'rgb16' : 'srgb');
}

async function transformFile(
  input: ImageSource,
  output: string,
  options: TransformFileOptions,
  step: (pipeline: Sharp, info: ImageInfo, label: string) => Sharp,
): Promise<void> {
  const opened = await openImage(input, options.limits ?? {});
  let bytes: Buffer;
  try {
    const format = toOutputFormat(output);
    const shaped = keepLayout(step(opened.pipeline(), opened.info, opened.label), opened.info, output);
    bytes = await withEncoder(shaped, format, options).toBuffer();
  } catch (cause) {
    throw toDecodeError(cause, opened.label, opened.info.format);
  }
  await writeFileAtomic(output, bytes);
}

/**
 * Crops the window `[x1, y1, x2, y2]` (pixels of the image as displayed,
 * x2/y2 exclusive) from an image file and writes it (format by the output's
 * extension, atomically). Grey, alpha and 16-bit depth are kept where the
 * output format allows. Used by importers that cut windows (DeepPCB).
 */
export async function cropImageFile(input: ImageSource, window: Box, output: string, options: TransformFileOptions = {}): Promise<void> {
  await transformFile(input, output, options, (pipeline, info, label) => {
    checkCropWindow(window, info, label);
    const [x1, y1, x2, y2] = window;
    return pipeline.extract({ left: x1, top: y1, width: x2 - x1, height: y2 - y1 });
  });
}

/** Resizes an image file to `size` and writes it (format by extension, atomically). */
export async function resizeImageFile(
  input: ImageSource,
  size: ImageSize,
  output: string,
  options: TransformFileOptions & ResizeImageOptions = {},
): Promise<void> {
  await transformFile(input, output, options, (pipeline) =>
    pipeline.resize(size.width, size.height, { fit: options.fit ?? 'fill', kernel: options.kernel ?? 'cubic' }),
  );
}

/** Resizes raw 8-bit pixels to `size`, keeping the channel count. */
export async function resizeRawImage(image: RawImage, size: ImageSize, options: ResizeImageOptions = {}): Promise<RawImage> {
  const fit = options.fit ?? 'fill';
  const { data, info } = await toSharp(image)
    .resize(size.width, size.height, { fit, kernel: options.kernel ?? 'cubic', background: { r: 0, g: 0, b: 0, alpha: 1 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== image.channels) {
    throw new DifferadError('IMAGE_ENCODE_FAILED', `resize returned ${info.channels} channels, expected ${image.channels}`);
  }
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: image.channels,
  };
}

/** Pixels to add on each side of an image. */
export interface Padding {
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly left: number;
}

/**
 * Pads raw 8-bit pixels, keeping the channel count: 'edge' repeats the
 * outermost row or column outward (no new edge, no new colour), 'zero' adds
 * black (background for masks).
 */
export async function padRawImage(image: RawImage, padding: Padding, mode: 'edge' | 'zero'): Promise<RawImage> {
  const fill = mode === 'edge' ? { extendWith: 'copy' as const } : { background: { r: 0, g: 0, b: 0, alpha: 1 } };
  const { data, info } = await toSharp(image)
    .extend({ ...padding, ...fill })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== image.channels) {
    throw new DifferadError('IMAGE_ENCODE_FAILED', `padding returned ${info.channels} channels, expected ${image.channels}`);
  }
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: image.channels,
  };
}
