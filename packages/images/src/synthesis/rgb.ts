/** An interleaved 8-bit RGB image, the working format of synthesis. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/** Applies a 256-entry lookup table to every channel. */
export function applyLut(image: RgbImage, lut: Uint8Array): RgbImage {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = lut[image.data[i]!]!;
  return { data: out, width: image.width, height: image.height };
}

export function createLut(fn: (v: number) => number): Uint8Array {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = clampByte(fn(v));
  return lut;
}

/** Luma (BT.601) of an RGB image as one byte per pixel. */
export function toGray(image: RgbImage): Uint8Array {
  const n = image.width * image.height;
  const gray = new Uint8Array(n);
  const d = image.data;
  for (let i = 0; i < n; i++) gray[i] = clampByte(0.299 * d[3 * i]! + 0.587 * d[3 * i + 1]! + 0.114 * d[3 * i + 2]!);
  return gray;
}

/**
 * Rotates an RGB image about its centre with bilinear sampling, multiplying
 * by `gain` on the way (brightness jitter in the same pass). `wrap` tiles the
 * image (for textures); otherwise edge pixels are replicated.
 */
export function rotateRgb(image: RgbImage, angle: number, wrap: boolean, gain = 1): RgbImage {
  const { width: w, height: h, data } = image;
  const out = new Uint8Array(data.length);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    // Inverse mapping: where in the source each output pixel comes from.
    let sx = cos * -cx + sin * (y - cy) + cx;
    let sy = -sin * -cx + cos * (y - cy) + cy;
    for (let x = 0; x < w; x++, sx += cos, sy -= sin) {
      let x0 = Math.floor(sx);
      let y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let x1 = x0 + 1;
      let y1 = y0 + 1;
      if (wrap) {
        x0 = ((x0 % w) + w) % w;
        x1 = ((x1 % w) + w) % w;
        y0 = ((y0 % h) + h) % h;
        y1 = ((y1 % h) + h) % h;
      } else {
        x0 = x0 < 0 ? 0 : x0 >= w ? w - 1 : x0;
        x1 = x1 < 0 ? 0 : x1 >= w ? w - 1 : x1;
        y0 = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0;
        y1 = y1 < 0 ? 0 : y1 >= h ? h - 1 : y1;
      }
      const a = (y0 * w + x0) * 3;
      const b = (y0 * w + x1) * 3;
      const c = (y1 * w + x0) * 3;
      const e = (y1 * w + x1) * 3;
      const o = (y * w + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = data[a + k]! + fx * (data[b + k]! - data[a + k]!);
        const bottom = data[c + k]! + fx * (data[e + k]! - data[c + k]!);
        const v = (top + fy * (bottom - top)) * gain;
        out[o + k] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
  return { data: out, width: w, height: h };
}

/** Rotates a binary mask about its centre (nearest neighbour; outside is 0). */
export function rotateMask(mask: Uint8Array, width: number, height: number, angle: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.round(cos * (x - cx) + sin * (y - cy) + cx);
      const sy = Math.round(-sin * (x - cx) + cos * (y - cy) + cy);
      if (sx >= 0 && sx < width && sy >= 0 && sy < height) out[y * width + x] = mask[sy * width + sx]!;
    }
  }
  return out;
}

/** The region [x1, y1, x2, y2) of an RGB image as a new image. */
export function cropRgb(image: RgbImage, region: readonly [number, number, number, number]): RgbImage {
  const [x1, y1, x2, y2] = region;
  const w = x2 - x1;
  const out = new Uint8Array(w * (y2 - y1) * 3);
  for (let y = y1; y < y2; y++) out.set(image.data.subarray((y * image.width + x1) * 3, (y * image.width + x2) * 3), (y - y1) * w * 3);
  return { data: out, width: w, height: y2 - y1 };
}
