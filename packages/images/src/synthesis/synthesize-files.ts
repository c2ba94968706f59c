import { basename, extname, join } from 'node:path';
import { type Box, createRng, DifferadError } from '@differad/core';
import { decodeImage, readImageSize } from '../decode/decode-image.js';
import { type RawImage, writeRawImage } from '../encode/write-image.js';
import { type BinaryMask, toBinaryMask } from '../masks/binary-mask.js';
import { loadMask } from '../masks/load-mask.js';
import { padRawImage, resizeRawImage } from '../transform/crop-resize.js';
import { createProceduralTexture, type ProceduralTexture } from './procedural-textures.js';
import { cropRgb, type RgbImage } from './rgb.js';
import { computeAnomalyRegion, computeSquareFit, embedMask, intersectOrKeep, isWholeSquare, type SquareFit } from './square-fit.js';
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
  /** Pixels of the reference that show the image, [x1, y1, x2, y2); the rest is padding (`contain`). */
  readonly content: Box;
  /** The image was enlarged to fit. */
  readonly upscaled: boolean;
}

/** Images with a side shorter than this hold too little to synthesize from. */
export const MIN_NORMAL_SIDE = 8;

/** Everything a worker needs to make pair `index`; plain data, so it can cross a worker boundary. */
export interface SynthesisPlan {
  readonly outDir: string;
  readonly seed: string;
  readonly size: number;
  /** How each normal became size×size. */
  readonly fit: SquareFit;
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
  readonly synth: {
    readonly normal: string;
    readonly fit: SquareFit;
    readonly texture: string | null;
    readonly beta: number | null;
    readonly augmentations: readonly string[];
  };
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
 * Scales raw pixels into the size×size square of `fit`. `contain` pads the
 * short side by repeating the image's outermost rows or columns: the padding
 * adds no edge or colour the image lacks (a constant border would be a sharp
 * new edge, and would sway Otsu's threshold), and it is the same in reference
 * and target. Masks are padded with zeros.
 */
async function fitToSquare(image: RawImage, size: number, fit: SquareFit, kind: 'image' | 'mask'): Promise<RawImage> {
  const kernel = kind === 'mask' ? 'nearest' : 'cubic';
  if (fit === 'cover') return resizeRawImage(image, { width: size, height: size }, { fit: 'cover', kernel });
  const { scaled, content } = computeSquareFit(image.width, image.height, size, fit);
  const resized = await resizeRawImage(image, scaled, { fit: 'fill', kernel });
  const padding = { left: content[0], top: content[1], right: size - content[2], bottom: size - content[3] };
  return padRawImage(resized, padding, kind === 'mask' ? 'zero' : 'edge');
}

/**
 * Fits one defect-free image of any size into size×size (`cover`: centre crop;
 * `contain`: padded, see `fitToSquare`), enlarging it when needed, and writes
 * it, with its user foreground mask when the mode is `masks`. An image with a
 * side under MIN_NORMAL_SIDE, an unreadable image or a missing mask is an
 * error naming the file.
 */
export async function prepareReference(
  source: string,
  index: number,
  plan: Pick<SynthesisPlan, 'outDir' | 'size' | 'fit' | 'foreground'>,
): Promise<PreparedReference> {
  const { width, height } = await readImageSize(source);
  if (Math.min(width, height) < MIN_NORMAL_SIDE) {
    throw new DifferadError(
      'SYNTH_IMAGE_UNUSABLE',
      `${source} is ${width}×${height}; synth needs at least ${MIN_NORMAL_SIDE} pixels on each side`,
    );
  }
  const { content, upscaled } = computeSquareFit(width, height, plan.size, plan.fit);
  const stem = toReferenceStem(index, source);
  const path = `references/${stem}.png`;
  const image = await fitToSquare(await decodeImage(source, { channels: 3 }), plan.size, plan.fit, 'image');
  await writeRawImage(join(plan.outDir, path), image);
  if (plan.foreground.kind !== 'masks') return { source, path, foreground: null, content, upscaled };
  const maskFile = join(plan.foreground.dir, `${basename(source, extname(source))}.png`);
  const mask = await loadMask(maskFile, source);
  const resized = await fitToSquare(
    { data: mask.data.map((v) => v * 255), width: mask.width, height: mask.height, channels: 1 },
    plan.size,
    plan.fit,
    'mask',
  );
  const foreground = `references/${stem}-foreground.png`;
  await writeRawImage(join(plan.outDir, foreground), resized);
  return { source, path, foreground, content, upscaled };
}

/**
 * Where anomalies may go in a prepared reference. Under `contain` the padding
 * is background in every mode: the foreground is cut to the part of the
 * content that stays inside it under the pair's rotation, and Otsu's
 * threshold is taken over the content alone so the padding cannot sway it.
 */
async function loadForeground(
  plan: SynthesisPlan,
  ref: PreparedReference,
  rgb: RgbImage,
  safe: (content: Box) => BinaryMask,
): Promise<BinaryMask | null> {
  const padded = !isWholeSquare(ref.content, plan.size);
  const region = padded ? safe(ref.content) : null;
  if (plan.foreground.kind === 'none') return region;
  let foreground: BinaryMask;
  if (ref.foreground) foreground = toBinaryMask(await decodeImage(join(plan.outDir, ref.foreground), { channels: 1 }));
  else if (padded) foreground = embedMask(computeOtsuForeground(cropRgb(rgb, ref.content)), plan.size, ref.content);
  else foreground = computeOtsuForeground(rgb);
  return region ? intersectOrKeep(foreground, region) : foreground;
}

/** Makes pairs of a plan by index; keeps decoded references and textures between calls. */
export function createPairSynthesizer(plan: SynthesisPlan): (index: number) => Promise<SynthRecord> {
  const references = new Map<string, Promise<{ rgb: RgbImage; foreground: BinaryMask | null }>>();
  const textures = new Map<string, Promise<RgbImage>>();
  const square = { width: plan.size, height: plan.size };
  // Normals of one size share a content box, so the region is computed once per box.
  const safeRegions = new Map<string, BinaryMask>();
  const safe = (content: Box) => {
    const key = content.join(',');
    let region = safeRegions.get(key);
    if (!region) safeRegions.set(key, (region = computeAnomalyRegion(plan.size, content, (plan.options.maxRotationDeg * Math.PI) / 180)));
    return region;
  };

  const loadReference = (ref: PreparedReference) => {
    let entry = references.get(ref.path);
    if (!entry) {
      entry = (async () => {
        const rgb = toRgb(await decodeImage(join(plan.outDir, ref.path), { channels: 3 }));
        return { rgb, foreground: await loadForeground(plan, ref, rgb, safe) };
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
    const [{ rgb, foreground }, textureImage] = await Promise.all([
      loadReference(ref),
      textureFile ? loadTexture(textureFile) : Promise.resolve(null),
    ]);
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
      await writeRawImage(
        join(plan.outDir, mask),
        { data: pair.mask.data.map((v) => v * 255), width: plan.size, height: plan.size, channels: 1 },
        { compressionLevel: 3 },
      );
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
        fit: plan.fit,
        texture: pair.box === null ? null : textureFile ? basename(textureFile) : `procedural:${kind}`,
        beta: pair.beta === null ? null : Math.round(pair.beta * 1e6) / 1e6,
        augmentations: pair.augmentations,
      },
    };
  };
}
