import { basename, extname, join } from 'node:path';
import { type Box, createRng, DifferadError } from '@differad/core';
import { decodeImage, readImageSize } from '../decode/decode-image.js';
import { type RawImage, writeRawImage } from '../encode/write-image.js';
import { type BinaryMask, toBinaryMask } from '../masks/binary-mask.js';
import { loadMask } from '../masks/load-mask.js';
import { resizeRawImage } from '../transform/crop-resize.js';
import { createProceduralTexture, type ProceduralTexture } from './procedural-textures.js';
import { cropRgb, type RgbImage } from './rgb.js';
import { computeOtsuForeground, type SynthesisOptions, synthesizePair } from './synthesize-pair.js';

/** Where the anomaly may go: inside the object by Otsu, anywhere, or inside user masks. */
export type ForegroundMode = { readonly kind: 'otsu' } | { readonly kind: 'none' } | { readonly kind: 'masks'; readonly dir: string };

/** A defect-free image resized for synthesis and written once under the output folder. */
export interface PreparedReference {
  readonly source: string;
  /** Path relative to the output folder. */
  readonly path: string;
  /** Foreground mask written beside it when the mode is `masks`, relative to the output folder. */
  readonly foreground: string | null;
}

/** Everything a worker needs to make pair `index`; plain data, so it can cross a worker boundary. */
export interface SynthesisPlan {
  readonly outDir: string;
  readonly seed: string;
  readonly size: number;
  readonly className: string;
  readonly references: readonly PreparedReference[];
  /** Texture image files; empty means the built-in procedural textures. */
  readonly textures: readonly string[];
  readonly foreground: ForegroundMode;
  readonly options: SynthesisOptions;
  readonly format: 'png' | 'jpeg';
}

/** The manifest line of one synthetic pair (paths relative to the output folder). */
export interface SynthRecord {
  readonly id: string;
  readonly class: string;
  readonly subset: 'synthetic';
  readonly reference: string;
  readonly target: string;
  readonly mask?: string;
  readonly width: number;
  readonly height: number;
  readonly box: Box | null;
  readonly synth: { readonly normal: string; readonly texture: string | null; readonly beta: number | null; readonly augmentations: readonly string[] };
}

function toRgb(image: RawImage): RgbImage {
  return { data: image.data, width: image.width, height: image.height };
}

/** A file-name-safe stem that keeps two images of the same name in different folders apart. */
export function toReferenceStem(index: number, source: string): string {
  const stem = basename(source, extname(source)).replace(/[^A-Za-z0-9_-]+/g, '_');
  return `${String(index).padStart(5, '0')}-${stem}`;
}

/**
 * Resizes one defect-free image to size×size (centre crop, no upscaling) and
 * writes it, with its user foreground mask when the mode is `masks`. An image
 * smaller than the size or a missing mask is an error naming the file.
 */
export async function prepareReference(source: string, index: number, plan: Pick<SynthesisPlan, 'outDir' | 'size' | 'foreground'>): Promise<PreparedReference> {
  const { width, height } = await readImageSize(source);
  if (Math.min(width, height) < plan.size) {
    throw new DifferadError('SYNTH_IMAGE_TOO_SMALL', `${source} is ${width}×${height}, smaller than the synthesis size ${plan.size}; pass a smaller --size`);
  }
  const square = { width: plan.size, height: plan.size };
  const stem = toReferenceStem(index, source);
  const path = `references/${stem}.png`;
  const image = await resizeRawImage(await decodeImage(source, { channels: 3 }), square, { fit: 'cover' });
  await writeRawImage(join(plan.outDir, path), image);
  if (plan.foreground.kind !== 'masks') return { source, path, foreground: null };
  const maskFile = join(plan.foreground.dir, `${basename(source, extname(source))}.png`);
  const mask = await loadMask(maskFile, source);
  const resized = await resizeRawImage({ data: mask.data.map((v) => v * 255), width: mask.width, height: mask.height, channels: 1 }, square, { fit: 'cover', kernel: 'nearest' });
  const foreground = `references/${stem}-foreground.png`;
  await writeRawImage(join(plan.outDir, foreground), resized);
  return { source, path, foreground };
}

/** Makes pairs of a plan by index; keeps decoded references and textures between calls. */
export function createPairSynthesizer(plan: SynthesisPlan): (index: number) => Promise<SynthRecord> {
  const references = new Map<string, Promise<{ rgb: RgbImage; foreground: BinaryMask | null }>>();
  const textures = new Map<string, Promise<RgbImage>>();
  const square = { width: plan.size, height: plan.size };

  const loadReference = (ref: PreparedReference) => {
    let entry = references.get(ref.path);
    if (!entry) {
      entry = (async () => {
        const rgb = toRgb(await decodeImage(join(plan.outDir, ref.path), { channels: 3 }));
        if (plan.foreground.kind === 'none') return { rgb, foreground: null };
        if (ref.foreground) return { rgb, foreground: toBinaryMask(await decodeImage(join(plan.outDir, ref.foreground), { channels: 1 })) };
        return { rgb, foreground: computeOtsuForeground(rgb) };
      })();
      if (references.size >= 256) references.delete(references.keys().next().value!);
      references.set(ref.path, entry);
    }
    return entry;
  };
  const loadTexture = (file: string) => {
    let entry = textures.get(file);
    if (!entry) {
      entry = decodeImage(file, { channels: 3 }).then(async (img) => toRgb(await resizeRawImage(img, square, { fit: 'cover' })));
      if (textures.size >= 64) textures.delete(textures.keys().next().value!);
      textures.set(file, entry);
    }
    return entry;
  };

  return async (index) => {
    const rng = createRng(`${plan.seed}/${index}`);
    const ref = plan.references[rng.int(0, plan.references.length - 1)]!;
    const textureFile = plan.textures.length > 0 ? rng.pick(plan.textures) : null;
    const textureRng = createRng(`${plan.seed}/${index}/texture`);
    const kind: ProceduralTexture = textureRng.pick(['noise', 'stripes', 'cracks', 'spots'] as const);
    const [{ rgb, foreground }, textureImage] = await Promise.all([loadReference(ref), textureFile ? loadTexture(textureFile) : Promise.resolve(null)]);
    const pair = synthesizePair(
      rng,
      {
        reference: rgb,
        foreground,
        texture: (region) =>
          textureImage
            ? cropRgb(textureImage, region)
            : createProceduralTexture(textureRng, region[2] - region[0], region[3] - region[1], kind),
      },
      plan.options,
    );
    const id = `synth-${String(index).padStart(6, '0')}`;
    const ext = plan.format === 'jpeg' ? 'jpg' : 'png';
    const target = `pairs/${id}-target.${ext}`;
    await writeRawImage(join(plan.outDir, target), { ...pair.target, channels: 3 }, { compressionLevel: 3, quality: 95 });
    let mask: string | undefined;
    if (pair.box !== null) {
      mask = `pairs/${id}-mask.png`;
      await writeRawImage(join(plan.outDir, mask), { data: pair.mask.data.map((v) => v * 255), width: plan.size, height: plan.size, channels: 1 }, { compressionLevel: 3 });
    }
    return {
      id,
      class: plan.className,
      subset: 'synthetic',
      reference: ref.path,
      target,
      ...(mask ? { mask } : {}),
      width: plan.size,
      height: plan.size,
      box: pair.box,
      synth: {
        normal: ref.source,
        texture: pair.box === null ? null : textureFile ? basename(textureFile) : `procedural:${kind}`,
        beta: pair.beta === null ? null : Math.round(pair.beta * 1e6) / 1e6,
        augmentations: pair.augmentations,
      },
    };
  };
}
