import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DifferadError } from '@differad/core';

/** The DeepPCB splits and the list file naming each one's pairs. */
export const DEEPPCB_SPLITS = ['trainval', 'test'] as const;
export type DeeppcbSplit = (typeof DEEPPCB_SPLITS)[number];

/** One pair named by a list file, with paths relative to the dataset root. */
export interface DeeppcbPair {
  readonly id: string;
  readonly split: DeeppcbSplit;
  /** `<dir>/<id>_temp.jpg`: the defect-free template (reference). */
  readonly template: string;
  /** `<dir>/<id>_test.jpg`: the tested image (target). */
  readonly tested: string;
  readonly annotation: string;
  /** `list.txt:12`, for messages. */
  readonly origin: string;
}

/** A list line that names no usable pair. */
export interface ListProblem {
  readonly origin: string;
  readonly message: string;
}

/**
 * Reads a DeepPCB list file: lines `groupG/G/<id>.jpg groupG/G_not/<id>.txt`.
 * The pair's images are `<id>_temp.jpg` and `<id>_test.jpg` beside the named
 * `.jpg`. Lines that do not have that shape are returned as problems.
 */
export async function readDeeppcbList(root: string, split: DeeppcbSplit): Promise<{ pairs: DeeppcbPair[]; problems: ListProblem[] }> {
  const file = join(root, `${split}.txt`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new DifferadError('DATASET_LAYOUT_INVALID', `the ${split} list ${file} cannot be read: ${(cause as Error).message}`, { cause });
  }
  const pairs: DeeppcbPair[] = [];
  const problems: ListProblem[] = [];
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = raw.trim();
    if (line === '') return;
    const origin = `${file}:${k + 1}`;
    const parts = line.split(/\s+/);
    const [image, annotation] = parts;
    if (parts.length !== 2 || image === undefined || annotation === undefined || !/\.jpe?g$/i.test(image) || !/\.txt$/i.test(annotation)) {
      problems.push({ origin, message: `expected "<dir>/<id>.jpg <dir>_not/<id>.txt", got "${line}"` });
      return;
    }
    const id = basename(image).replace(/\.jpe?g$/i, '');
    const dir = dirname(image);
    pairs.push({ id, split, template: join(dir, `${id}_temp.jpg`), tested: join(dir, `${id}_test.jpg`), annotation, origin });
  });
  return { pairs, problems };
}
