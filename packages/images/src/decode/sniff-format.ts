/** Formats this package decodes (what the prebuilt sharp/libvips reads safely). */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'tiff'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** What the first bytes of a file say it is. */
export type SniffedFormat =
  | { readonly kind: 'supported'; readonly format: ImageFormat }
  | { readonly kind: 'unsupported'; readonly format: string }
  | { readonly kind: 'unknown' };

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

const UNSUPPORTED: readonly { format: string; signature: readonly number[]; offset?: number }[] = [
  // The prebuilt libvips in sharp has no BMP loader (it would need ImageMagick).
  { format: 'bmp', signature: ascii('BM') },
  { format: 'gif', signature: ascii('GIF8') },
  { format: 'heif/avif', signature: ascii('ftyp'), offset: 4 },
  { format: 'jpeg2000', signature: [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20] },
  { format: 'jpeg-xl', signature: [0xff, 0x0a] },
  { format: 'pdf', signature: ascii('%PDF') },
  { format: 'svg', signature: ascii('<svg') },
  { format: 'svg/xml', signature: ascii('<?xml') },
  { format: 'vips', signature: [0x08, 0xf2, 0xa6, 0xb6] },
];

/**
 * Identifies an image by its magic bytes, before any decoder sees it: only the
 * formats in IMAGE_FORMATS reach sharp, so an SVG or a PDF with a misleading
 * extension is refused rather than rendered.
 */
export function sniffImageFormat(bytes: Uint8Array): SniffedFormat {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'supported', format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'supported', format: 'png' };
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return { kind: 'supported', format: 'webp' };
  // Classic TIFF (42) and BigTIFF (43), both byte orders.
  if (startsWith(bytes, [0x49, 0x49]) && (bytes[2] === 0x2a || bytes[2] === 0x2b) && bytes[3] === 0x00) {
    return { kind: 'supported', format: 'tiff' };
  }
  if (startsWith(bytes, [0x4d, 0x4d, 0x00]) && (bytes[3] === 0x2a || bytes[3] === 0x2b)) {
    return { kind: 'supported', format: 'tiff' };
  }
  for (const { format, signature, offset } of UNSUPPORTED) {
    if (startsWith(bytes, signature, offset)) return { kind: 'unsupported', format };
  }
  return { kind: 'unknown' };
}
