import { type Box, DifferadError, type ImageSize } from '@differad/core';
import type { MaskBox } from './dataset-image-ops.js';

/**
 * The ground-truth box of an image filed as defective, from its mask: the
 * mask must have the image's size and some foreground. Throws
 * `DATASET_MASK_SIZE_MISMATCH` or `DATASET_MASK_EMPTY` naming the mask.
 */
export function checkMaskBox(image: string, mask: string, imageSize: ImageSize, found: MaskBox): Box {
  if (found.size.width !== imageSize.width || found.size.height !== imageSize.height) {
    throw new DifferadError(
      'DATASET_MASK_SIZE_MISMATCH',
      `mask ${mask} is ${found.size.width}×${found.size.height} but its image ${image} is ${imageSize.width}×${imageSize.height}`,
      { details: { file: mask } },
    );
  }
  if (found.box === null) {
    throw new DifferadError('DATASET_MASK_EMPTY', `mask ${mask} is empty but its image ${image} is filed as defective`, {
      details: { file: mask },
    });
  }
  return found.box;
}
