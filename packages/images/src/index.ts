/** @differad/images — the sharp adapter: decode with limits, model frames, masks, drawing, descriptors. */
export { IMAGE_ERRORS } from './errors/image-errors.js';
export {
  type PixelData,
  type RawImage,
  OUTPUT_FORMATS,
  type OutputFormat,
  type EncodeOptions,
  toOutputFormat,
  isRawImage16,
  encodeRawImage,
  writeRawImage,
  writeFileAtomic,
} from './encode/write-image.js';
export { IMAGE_FORMATS, type ImageFormat, type SniffedFormat, sniffImageFormat } from './decode/sniff-format.js';
export { type ImageSource, DEFAULT_MAX_INPUT_BYTES } from './decode/read-source.js';
export { type FailOn, type DecodeLimits, DEFAULT_DECODE_LIMITS, type ImageInfo } from './decode/open-image.js';
export { type DecodeOptions, type DecodedImage, decodeImage, readImageInfo, readImageSize } from './decode/decode-image.js';
export { type CacheStats } from './prepare/byte-lru-cache.js';
export {
  type ResizeKernel,
  type FramePrepareOptions,
  type PreparedImage,
  type PreparedPair,
  type FramePreparer,
  DEFAULT_FRAME_PREPARE,
  createFramePreparer,
} from './prepare/prepare-frames.js';
export { type BinaryMask, DEFAULT_MASK_THRESHOLD, toBinaryMask, computeForegroundCount } from './masks/binary-mask.js';
export {
  type MaskComponent,
  type ConnectedComponents,
  type Connectivity,
  type MaskBoxOptions,
  computeConnectedComponents,
  findLargestComponent,
  computeForegroundBox,
  computeMaskBox,
} from './masks/connected-components.js';
export { computeHistogram, computeOtsuThreshold } from './masks/otsu.js';
export { type LoadMaskOptions, loadMask } from './masks/load-mask.js';
export {
  type TransformFileOptions,
  type ResizeImageOptions,
  type Padding,
  checkCropWindow,
  cropRawImage,
  cropImageFile,
  resizeImageFile,
  resizeRawImage,
  padRawImage,
} from './transform/crop-resize.js';
export {
  type Rgb,
  BOX_COLORS,
  type DrawnBox,
  type DrawOptions,
  toRgbImage,
  drawBoxes,
  writeAnnotatedImage,
} from './draw/draw-boxes.js';
export { type DrawSource } from './draw/canvas.js';
export { type PairPreviewOptions, renderPairPreview, writePairPreview } from './draw/pair-preview.js';
export { type ContactTile, type ContactSheetOptions, renderContactSheet, writeContactSheet } from './draw/contact-sheet.js';
export {
  type ImageDescriptor,
  type SimilarityWeights,
  DEFAULT_SIMILARITY_WEIGHTS,
  DESCRIPTOR_INPUT_SIZE,
  type DescribedImage,
  toImageDescriptor,
  computeImageDescriptor,
  describeImage,
  computeDescriptorSimilarity,
} from './descriptor/image-descriptor.js';
export {
  type DescriptorEntry,
  type SimilarityMatch,
  type DescriptorBatchOptions,
  IMAGE_EXTENSIONS,
  findMostSimilar,
  computeDescriptors,
  computeFolderDescriptors,
} from './descriptor/similarity-search.js';
export { EXAMPLE_CLASSES, type ExampleClass, type ExamplePair, drawExamplePair } from './example/draw-example-pair.js';
export { type PerlinOptions, computePerlinNoise, drawPerlinOptions, thresholdNoise } from './synthesis/perlin.js';
export { type RgbImage, rotateRgb, rotateMask, toGray } from './synthesis/rgb.js';
export { AUGMENTATIONS, type Augmentation, applyAugmentation, drawAugmentations, augmentTexture } from './synthesis/augment.js';
export { PROCEDURAL_TEXTURES, type ProceduralTexture, createProceduralTexture } from './synthesis/procedural-textures.js';
export {
  type SynthesisOptions,
  DEFAULT_SYNTHESIS_OPTIONS,
  type SynthesizedPair,
  computeOtsuForeground,
  blendAnomaly,
  synthesizePair,
} from './synthesis/synthesize-pair.js';
export {
  SQUARE_FITS,
  type SquareFit,
  type SquareFitGeometry,
  computeSquareFit,
  computeRotationSafeRegion,
} from './synthesis/square-fit.js';
export {
  type ForegroundMode,
  type PreparedReference,
  MIN_NORMAL_SIDE,
  type SynthesisPlan,
  type SynthRecord,
  toReferenceStem,
  prepareReference,
  createPairSynthesizer,
} from './synthesis/synthesize-files.js';
export {
  type DetectorParams,
  type Detection,
  type DifferenceMap,
  toWorkingGray,
  boxBlur,
  computeDifferenceMap,
  findAnomalyBox,
  type BoxParams,
  computeToleranceDifference,
  MAX_TOLERANCE,
  detectDifference,
} from './detect/difference-detector.js';
