/** Generated test pictures: a board of 10-pixel squares and a painted defect. */
import { type Box, createRng } from '@differad/core';
import type { RawImage } from '@differad/images';

/** A size × size board of squares in two greys; with `noiseSeed`, a little sensor noise so difference maps are never flat. */
export function drawBoard(size: number, shade: number, noiseSeed?: string): RawImage {
  const rng = noiseSeed === undefined ? null : createRng(noiseSeed);
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = (Math.floor(x / 10) % 2 === Math.floor(y / 10) % 2 ? 200 - shade : 60 + shade) + (rng ? rng.int(-6, 6) : 0);
      data.set([v, v, v], (y * size + x) * 3);
    }
  }
  return { data, width: size, height: size, channels: 3 };
}

/** The image with `box` painted red: the defect. */
export function paintBox(image: RawImage, box: Box): RawImage {
  const data = new Uint8Array(image.data);
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) data.set([230, 40, 40], (y * image.width + x) * 3);
  return { ...image, data };
}
