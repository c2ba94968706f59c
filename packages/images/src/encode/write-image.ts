import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DifferadError } from '@differad/core';
import sharp from 'sharp';

/** Interleaved 8-bit pixels. */
export interface RawImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
}

/** Writes raw pixels as PNG or JPEG (by extension), creating the folder. */
export async function writeRawImage(path: string, image: RawImage): Promise<void> {
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) {
    throw new DifferadError('IMAGE_ENCODE_FAILED', `${path}: ${data.length} bytes do not make a ${width}×${height}×${channels} image`);
  }
  await mkdir(dirname(path), { recursive: true });
  try {
    const pipeline = sharp(data, { raw: { width, height, channels } });
    await (/\.jpe?g$/i.test(path) ? pipeline.jpeg({ quality: 92 }) : pipeline.png()).toFile(path);
  } catch (cause) {
    throw new DifferadError('IMAGE_ENCODE_FAILED', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}
