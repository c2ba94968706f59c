/** @differad/datasets — manifests, prediction files and dataset importers: streaming JSONL with file:line errors. */
export { DATASET_ERRORS } from './errors/dataset-errors.js';
export { type JsonlLine, MAX_JSONL_LINE_BYTES, readJsonl } from './jsonl/read-jsonl.js';
export { type TextLine, readLines } from './jsonl/read-lines.js';
export { writeJsonlAtomically } from './jsonl/write-jsonl.js';
export { type LineProblem, formatLineProblem, formatLineProblems } from './jsonl/line-problem.js';
export { type LoadedManifest, loadManifest, resolveManifestPath } from './manifest/load-manifest.js';
export { type ManifestEntry, readManifest } from './manifest/read-manifest.js';
export { type IndexManifestOptions, type ManifestIndex, MANIFEST_PROBLEM_EXAMPLES, indexManifest } from './manifest/index-manifest.js';
export { type ManifestLine, parseManifestLine } from './manifest/parse-manifest-line.js';
export { type ManifestWriter, createManifestWriter, writeManifest } from './manifest/manifest-writer.js';
export { rebaseManifestRecord } from './manifest/rebase-record.js';
export { type ValidateOptions, type ManifestReport, validateManifest } from './manifest/validate-manifest.js';
export { type LoadedPredictions, loadPredictions } from './predictions/load-predictions.js';
export {
  type PredictionLine,
  type PredictionScan,
  PREDICTION_PROBLEM_EXAMPLES,
  scanPredictions,
  toPredictionLine,
} from './predictions/scan-predictions.js';
export { loadPromptPool } from './prompts/load-prompt-pool.js';
export {
  type DatasetImageOps,
  type MaskBoxMode,
  MASK_BOX_MODES,
  type MaskBox,
  type CropRequest,
  type DescribedImage,
} from './importers/dataset-image-ops.js';
export { IMAGE_EXTENSIONS, isImageFile, resolveInsideRoot, toManifestPath } from './importers/dataset-paths.js';
export { type ImportProgress, type ImportCommonOptions, type BadItem, type ImportResult, type SourceTally } from './importers/import-run.js';
export { type ReferenceChoice, DEFAULT_TOP_K } from './importers/reference-pool.js';
export { type StagedOutput, STAGING_PREFIX, createStagedOutput, withStagedOutput } from './importers/staged-output.js';
export { type MvtecImportOptions, MVTEC_AD_SUBSETS, importMvtec } from './importers/mvtec.js';
export { DEEPPCB_SPLITS, type DeeppcbSplit } from './importers/deeppcb-list.js';
export { type DeeppcbImportOptions, DEEPPCB_NORMAL_CLASS, importDeeppcb } from './importers/deeppcb.js';
export { type MasksImportOptions, toMaskPath, importMasks } from './importers/masks.js';
export { computeCoverCrop } from './importers/cover-crop.js';
export {
  type ResearchImportOptions,
  type ResearchExportOptions,
  importResearchJsonl,
  exportResearchJsonl,
} from './importers/research-jsonl.js';
