import type { RawImage } from '../encode/write-image.js';
import sharp from 'sharp';

/** One line of text to put on an image; (x, y) is the top-left corner of the text. */
export interface TextLabel {
  readonly x: number;
  readonly y: number;
  readonly text: string;
  readonly fontSize: number;
  /** CSS colour, e.g. '#ffffff'. */
  readonly color?: string;
}

const FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

// Control characters are not allowed in XML and would void the whole overlay.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f]/g;

function escapeXml(text: string): string {
  return text
    .replace(CONTROL_CHARACTERS, ' ')
    .replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** Rough advance width of `text` at `fontSize`, for sizing label tabs (no font metrics needed). */
export function estimateTextWidth(text: string, fontSize: number): number {
  return Math.ceil(text.length * fontSize * 0.6);
}

/** `text` cut with an ellipsis so that its estimated width fits `width`. */
export function fitText(text: string, fontSize: number, width: number): string {
  const max = Math.max(1, Math.floor(width / (fontSize * 0.6)));
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Draws text on an RGB image by compositing an SVG overlay (librsvg via
 * sharp). Text is decoration: when it cannot be rendered (no fonts, a
 * renderer failure) the image comes back unchanged rather than failing the
 * picture, so boxes drawn before always survive.
 */
export async function overlayText(image: RawImage, labels: readonly TextLabel[]): Promise<RawImage> {
  const visible = labels.filter((l) => l.text.trim() !== '');
  if (visible.length === 0) return image;
  const { width, height, channels } = image;
  const texts = visible
    .map(
      (l) =>
        `<text x="${l.x}" y="${l.y + Math.round(l.fontSize * 0.82)}" font-family="${FONT_FAMILY}" font-size="${l.fontSize}" fill="${escapeXml(l.color ?? '#ffffff')}">${escapeXml(l.text)}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${texts}</svg>`;
  try {
    const { data, info } = await sharp(image.data, { raw: { width, height, channels } })
      .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== width || info.height !== height || info.channels !== channels) return image;
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels };
  } catch {
    return image;
  }
}
