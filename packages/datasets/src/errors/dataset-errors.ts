import type { ErrorSpec } from '@differad/core';

const fails = (summary: string) => ({ status: null, retryable: false, summary }) as const;

/** The error codes @differad/datasets throws: manifests, JSONL files, outputs and the importers. */
export const DATASET_ERRORS = {
  MANIFEST_INVALID: fails(
    'A manifest has lines that are not JSON or break the record schema, a record about to be written is invalid, or its image files are missing.',
  ),
  MANIFEST_EMPTY: fails('A manifest holds no records.'),
  DATA_FILE_UNREADABLE: fails('A JSONL file (manifest, predictions) cannot be read.'),
  OUTPUT_EXISTS: fails('An output is already there and --force was not given, or a file stands where a folder goes (or the reverse).'),
  OUTPUT_WRITE_FAILED: fails(
    'An output file or folder cannot be written, moved into place or removed, or a manifest writer was used after it was closed.',
  ),
  DATASET_LAYOUT_INVALID: fails(
    'A dataset folder is not laid out as its importer expects (missing folders, lists, masks or normal images; a --mask-pattern without {stem}).',
  ),
  DATASET_FILE_MISSING: fails('A file a dataset names does not exist.'),
  DATASET_PATH_ESCAPES_ROOT: fails('A list or annotation entry points outside the dataset root.'),
  DATASET_LINK_LOOP: fails('A dataset path leads back to itself through symbolic links.'),
  DATASET_ANNOTATION_INVALID: fails('An annotation file or JSONL line cannot be parsed (the first bad line is named).'),
  DATASET_PAIR_SIZE_MISMATCH: fails('The two images of a pair have different sizes.'),
  DATASET_IMAGE_TOO_SMALL: fails('An image is smaller than the crop window asked for (--window).'),
  DATASET_MASK_SIZE_MISMATCH: fails('A mask and its image have different sizes.'),
  DATASET_MASK_EMPTY: fails('An image filed as defective has an empty mask.'),
  DATASET_EMPTY: fails('An import produced no records, so no manifest was written.'),
  DATASET_NO_ANOMALOUS: fails('An import found defective images but produced normal records only, so no manifest was written.'),
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly datasets: typeof DATASET_ERRORS;
  }
}
