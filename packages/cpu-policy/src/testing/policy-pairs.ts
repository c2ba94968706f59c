import type { Box } from '@differad/core';
import { encodeRawImage, type RawImage } from '@differad/images';

/** A grey board of 8-pixel squares: texture the alignment search can lock on to. */
export function createBoard(width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = (x >> 3) % 2 === (y >> 3) % 2 ? 190 : 70;
      data.set([v, v, v], (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

/** A copy of `image` with a red rectangle painted over `box` (pixels, x2/y2 exclusive). */
export function paintDefect(image: RawImage, box: Box): RawImage {
  const data = new Uint8Array(image.data);
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) data.set([255, 20, 20], (y * image.width + x) * 3);
  return { ...image, data };
}

/** PNG bytes of an image. */
export function toPng(image: RawImage): Promise<Buffer> {
  return encodeRawImage(image, 'png');
}

/** A `data:image/png;base64,` URL of an image. */
export async function toPngDataUrl(image: RawImage): Promise<string> {
  return `data:image/png;base64,${(await toPng(image)).toString('base64')}`;
}

/** A 160×120 reference and a target with a defect at DEFECT_BOX, as PNG bytes. */
export async function createDefectPair(): Promise<{ reference: Buffer; target: Buffer; box: Box }> {
  const board = createBoard(160, 120);
  return { reference: await toPng(board), target: await toPng(paintDefect(board, DEFECT_BOX)), box: DEFECT_BOX };
}

/** Where {@link createDefectPair} paints its defect. */
export const DEFECT_BOX: Box = [60, 40, 92, 68];
