import { DifferadError, type ImageSize } from '@differad/core';
import { decodeImage, readImageSize } from '../decode/decode-image.js';
import type { DecodeLimits } from '../decode/open-image.js';
import type { ImageSource } from '../decode/read-source.js';
import { type BinaryMask, DEFAULT_MASK_THRESHOLD, toBinaryMask } from './binary-mask.js';

/** Options of loadMask. */
export interface LoadMaskOptions {
  /** Binarization threshold (default 128; 1 for masks stored as 0/1). */
  readonly threshold?: number;
  readonly limits?: DecodeLimits;
  /** Names used in errors for in-memory inputs. */
  readonly maskName?: string;
  readonly imageName?: string;
}

function labelOf(source: ImageSource | ImageSize, name: string | undefined, fallback: string): string {
  if (name !== undefined) return name;
  return typeof source === 'string' ? source : fallback;
}

function isImageSize(value: ImageSource | ImageSize): value is ImageSize {
  return typeof value === 'object' && !(value instanceof Uint8Array);
}

/**
 * Decodes a mask file to a binary mask and checks that it has the size of its
 * image (given as a source or as a size; EXIF orientation applied to both).
 * A mismatch is IMAGE_MASK_SIZE_MISMATCH naming both files.
 */
export async function loadMask(mask: ImageSource, image: ImageSource | ImageSize, options: LoadMaskOptions = {}): Promise<BinaryMask> {
  const maskLabel = labelOf(mask, options.maskName, '<mask buffer>');
  const imageLabel = labelOf(image, options.imageName, isImageSize(image) ? 'the image' : '<image buffer>');
  const limits = options.limits ?? {};
  const expected = isImageSize(image) ? image : await readImageSize(image, { ...limits, name: imageLabel });
  const decoded = await decodeImage(mask, { ...limits, name: maskLabel });
  if (decoded.width !== expected.width || decoded.height !== expected.height) {
    throw new DifferadError(
      'IMAGE_MASK_SIZE_MISMATCH',
      `mask ${maskLabel} is ${decoded.width}×${decoded.height} but image ${imageLabel} is ${expected.width}×${expected.height}`,
      {
        details: {
          mask: maskLabel,
          image: imageLabel,
          maskSize: [decoded.width, decoded.height],
          imageSize: [expected.width, expected.height],
        },
      },
    );
  }
  return toBinaryMask(decoded, options.threshold ?? DEFAULT_MASK_THRESHOLD);
}
