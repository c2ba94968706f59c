import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Box, DifferadError, type ImageSize } from '@differad/core';
import type { DatasetImageOps } from '../importers/dataset-image-ops.js';

/**
 * A stand-in for real image files in this package's tests: a JSON text file
 * holding a size and a "tone" (the similarity descriptor), or a mask's size
 * and box. It lets the importers' layout and error logic be tested without
 * an image library; the CLI's e2e tests cover the real images.
 */
export interface FakeImage {
  readonly width: number;
  readonly height: number;
  readonly tone?: number;
  /** Masks only: the foreground box (null = empty mask). */
  readonly box?: Box | null;
  /** Set on crops: the window cut from the source. */
  readonly crop?: Box;
  readonly from?: string;
}

/** Writes a fake image (or mask) file, creating its folder. */
export function writeFakeImage(path: string, image: FakeImage): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(image));
}

/** Reads a fake image; a file that is not one fails like a corrupt image does. */
export async function readFakeImage(path: string): Promise<FakeImage> {
  const text = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new DifferadError('IMAGE_NOT_FOUND', `${path}: ${(cause as Error).message}`);
  });
  try {
    const value = JSON.parse(text) as FakeImage;
    if (!(value.width > 0 && value.height > 0)) throw new Error('no size');
    return value;
  } catch (cause) {
    throw new DifferadError('IMAGE_DECODE_FAILED', `${path}: corrupt or truncated image`, { cause });
  }
}

async function write(path: string, image: FakeImage): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(image));
}

const sizeOf = (i: FakeImage): ImageSize => ({ width: i.width, height: i.height });

/** DatasetImageOps over fake image files; similarity = −|tone difference|. Counts the most decodes in flight. */
export function createFakeImageOps(): DatasetImageOps<number> & { readonly maxInFlight: number } {
  let inFlight = 0;
  let maxInFlight = 0;
  const decode = async (path: string) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setImmediate(r));
      return await readFakeImage(path);
    } finally {
      inFlight--;
    }
  };
  return {
    get maxInFlight() {
      return maxInFlight;
    },
    readSize: async (path) => sizeOf(await decode(path)),
    checkImage: async (path) => sizeOf(await decode(path)),
    async cropToFiles(src, crops) {
      const image = await decode(src);
      for (const c of crops)
        await write(c.path, { width: c.box[2] - c.box[0], height: c.box[3] - c.box[1], tone: image.tone ?? 0, crop: c.box, from: src });
    },
    async cropResizeToFile(src, crop, size, dst) {
      const image = await decode(src);
      if (crop[0] < 0 || crop[1] < 0 || crop[2] > image.width || crop[3] > image.height)
        throw new DifferadError('IMAGE_CROP_OUT_OF_BOUNDS', `${src}: crop [${crop.join(', ')}] outside the image`);
      await write(dst, { ...size, tone: image.tone ?? 0, crop, from: src });
    },
    async readMaskBox(path) {
      const mask = await decode(path);
      return { size: sizeOf(mask), box: mask.box ?? null };
    },
    async describe(path) {
      const image = await decode(path);
      return { size: sizeOf(image), descriptor: image.tone ?? 0 };
    },
    similarity: (a, b) => -Math.abs(a - b),
  };
}
