/** @differad/datasets — manifests and prediction files: streaming JSONL with file:line errors. */
export { type JsonlLine, MAX_JSONL_LINE_CHARS, readJsonl } from './jsonl/read-jsonl.js';
export { type LineProblem, formatLineProblem, formatLineProblems } from './jsonl/line-problem.js';
export { type LoadedManifest, loadManifest, resolveManifestPath } from './manifest/load-manifest.js';
export { type LoadedPredictions, loadPredictions } from './predictions/load-predictions.js';
export { writeJsonlAtomically } from './jsonl/write-jsonl.js';
