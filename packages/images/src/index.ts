/** @differad/images — the sharp adapter: decode with limits, model frames, masks, drawing, descriptors. */
export { IMAGE_ERRORS } from './errors/image-errors.js';
export { type RawImage, encodeRawImage, writeRawImage, writeFileAtomic } from './encode/write-image.js';
export { decodeImage, readImageSize } from './decode/decode-image.js';
export { type FramePrepareOptions, type PreparedImage, type FramePreparer, createFramePreparer } from './prepare/prepare-frames.js';
export { type BinaryMask, DEFAULT_MASK_THRESHOLD, toBinaryMask } from './masks/binary-mask.js';
export { computeConnectedComponents, findLargestComponent, computeForegroundBox, computeMaskBox } from './masks/connected-components.js';
export { loadMask } from './masks/load-mask.js';
export { cropRawImage, resizeRawImage } from './transform/crop-resize.js';
export { type DrawnBox } from './draw/draw-boxes.js';
export { renderPairPreview } from './draw/pair-preview.js';
export { type ContactTile, writeContactSheet } from './draw/contact-sheet.js';
export { type ImageDescriptor, computeImageDescriptor, computeDescriptorSimilarity } from './descriptor/image-descriptor.js';
export { EXAMPLE_CLASSES, drawExamplePair } from './example/draw-example-pair.js';
export { computePerlinNoise, drawPerlinOptions, thresholdNoise } from './synthesis/perlin.js';
export { rotateRgb } from './synthesis/rgb.js';
export { augmentTexture } from './synthesis/augment.js';
export { createProceduralTexture } from './synthesis/procedural-textures.js';
export { DEFAULT_SYNTHESIS_OPTIONS, blendAnomaly } from './synthesis/synthesize-pair.js';
export { SQUARE_FITS, type SquareFit } from './synthesis/square-fit.js';
export {
  type ForegroundMode,
  type SynthesisPlan,
  type SynthRecord,
  prepareReference,
  createPairSynthesizer,
} from './synthesis/synthesize-files.js';
export {
  type DifferenceMap,
  boxBlur,
  computeDifferenceMap,
  findAnomalyBox,
  type BoxParams,
  computeToleranceDifference,
} from './detect/difference-detector.js';
