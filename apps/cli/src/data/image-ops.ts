import type { DatasetImageOps } from '@differad/datasets';
import {
  computeDescriptorSimilarity,
  computeImageDescriptor,
  computeMaskBox,
  cropRawImage,
  decodeImage,
  DEFAULT_MASK_THRESHOLD,
  type ImageDescriptor,
  readImageSize,
  resizeRawImage,
  toBinaryMask,
  writeRawImage,
} from '@differad/images';

/**
 * The dataset importers' image operations, backed by @differad/images: every
 * decode applies its limits and maps corrupt or truncated files to
 * `IMAGE_DECODE_FAILED` naming the file.
 */
export function createDatasetImageOps(): DatasetImageOps<ImageDescriptor> {
  return {
    readSize: (path) => readImageSize(path),
    async checkImage(path) {
      const decoded = await decodeImage(path, { channels: 1 });
      return { width: decoded.width, height: decoded.height };
    },
    async cropToFiles(src, crops) {
      if (crops.length === 0) return;
      // Decode once, cut every window from the pixels: DeepPCB cuts several windows per image.
      const image = await decodeImage(src);
      for (const crop of crops) await writeRawImage(crop.path, cropRawImage(image, crop.box));
    },
    async cropResizeToFile(src, crop, size, dst) {
      // Cut first, then scale the window alone: the recorded crop is exactly what became the reference.
      const image = await decodeImage(src);
      await writeRawImage(dst, await resizeRawImage(cropRawImage(image, crop), size, { kernel: 'cubic' }));
    },
    async readMaskBox(path, mode) {
      const decoded = await decodeImage(path);
      const box = computeMaskBox(toBinaryMask(decoded, DEFAULT_MASK_THRESHOLD), { mode, connectivity: 8 });
      return { size: { width: decoded.width, height: decoded.height }, box };
    },
    async describe(path) {
      const decoded = await decodeImage(path);
      const descriptor = await computeImageDescriptor(decoded);
      return { size: { width: decoded.width, height: decoded.height }, descriptor };
    },
    similarity: (a, b) => computeDescriptorSimilarity(a, b),
  };
}
