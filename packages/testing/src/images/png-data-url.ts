import { crc32, deflateSync } from 'node:zlib';

/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [r: number, g: number, b: number];

/** Options of {@link createPngDataUrl}. */
export interface PngOptions {
  readonly width: number;
  readonly height: number;
  /** Background colour. */
  readonly color: Rgb;
  /** An optional rectangle `[x1, y1, x2, y2]` in pixels, painted in `patchColor`. */
  readonly patch?: readonly [number, number, number, number];
  readonly patchColor?: Rgb;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A small, valid RGB PNG as a `data:image/png;base64,` URL: test images that a
 * real vision-language server can decode, without an image library.
 */
export function createPngDataUrl(options: PngOptions): string {
  const { width, height, color, patch } = options;
  const pc = options.patchColor ?? [255 - color[0], 255 - color[1], 255 - color[2]];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const inPatch = patch !== undefined && x >= patch[0] && x < patch[2] && y >= patch[1] && y < patch[3];
      const c = inPatch ? pc : color;
      raw[row + 1 + x * 3] = c[0];
      raw[row + 2 + x * 3] = c[1];
      raw[row + 3 + x * 3] = c[2];
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: RGB
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return `data:image/png;base64,${png.toString('base64')}`;
}
