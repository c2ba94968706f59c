import { availableParallelism } from 'node:os';
import {
  DEEPPCB_SPLITS,
  DEFAULT_TOP_K,
  exportResearchJsonl,
  importDeeppcb,
  importMasks,
  importMvtec,
  importResearchJsonl,
  type ImportCommonOptions,
  type ImportResult,
  MASK_BOX_MODES,
  type MaskBoxMode,
} from '@differad/datasets';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CliIo, parseIntegerOption, resolvePath } from '../cli-io.js';
import { helpText } from '../help-text.js';
import { createDatasetImageOps } from '../data/image-ops.js';
import { createImportProgress } from '../data/import-progress.js';
import { formatImportSummary } from '../data/import-summary.js';

/** Flags every importer has. */
interface CommonFlags {
  out: string;
  jobs: number;
  skipBad?: boolean;
  force?: boolean;
  json?: boolean;
}

const DEFAULT_JOBS = Math.max(1, Math.min(8, availableParallelism()));

function addCommonOptions(command: Command): Command {
  return command
    .requiredOption('--out <dir>', 'output folder: manifest.jsonl and derived images')
    .option('--jobs <n>', 'images decoded in parallel', parseIntegerOption('--jobs'), DEFAULT_JOBS)
    .option('--skip-bad', 'skip bad items and list them in the summary (default: stop at the first, naming the file)')
    .option('--force', 'replace an existing OUT/manifest.jsonl')
    .option('--json', 'print the summary as one JSON object');
}

async function runImport(
  io: CliIo,
  kind: string,
  flags: CommonFlags,
  run: (common: ImportCommonOptions) => Promise<ImportResult>,
): Promise<number> {
  const started = performance.now();
  const progress = createImportProgress(io, kind);
  const common: ImportCommonOptions = {
    out: resolvePath(io, flags.out),
    jobs: flags.jobs,
    skipBad: flags.skipBad === true,
    force: flags.force === true,
    onProgress: progress.report,
  };
  let result: ImportResult;
  try {
    result = await run(common);
  } finally {
    progress.done();
  }
  const seconds = (performance.now() - started) / 1000;
  io.stdout(flags.json ? `${JSON.stringify({ kind, ...result, seconds }, null, 2)}\n` : formatImportSummary(kind, result, seconds));
  return 0;
}

const at = resolvePath;
const example = (lines: string[]) =>
  helpText(
    `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  ${l}`).join('\n')}\n\nExit codes: 0 imported; 1 wrong usage; 2 unusable input (the first bad item, named, unless --skip-bad).`,
  );
const boxModeOption = () =>
  new Option('--box-mode <mode>', 'mask → box: largest 8-connected component, or all foreground')
    .choices(MASK_BOX_MODES)
    .default('largest');
const topKOption = () =>
  new Option('--top-k <k>', 'most similar references kept per record in references_topk')
    .argParser(parseIntegerOption('--top-k'))
    .default(DEFAULT_TOP_K);

/** `--mask-pattern` must name one mask per image, so it needs `{stem}`: a bad value is wrong usage (exit 1). */
function parseMaskPattern(value: string): string {
  if (!value.includes('{stem}'))
    throw new InvalidArgumentError(`--mask-pattern needs {stem} (the image's name without extension), got "${value}"`);
  return value;
}

interface MvtecFlags extends CommonFlags {
  root: string;
  topK: number;
  boxMode: MaskBoxMode;
  subset?: string;
}
interface DeeppcbFlags extends CommonFlags {
  root: string;
  split: (typeof DEEPPCB_SPLITS)[number] | 'all';
  window: number;
  normalsPerImage: number;
  seed: string;
}
interface MasksFlags extends CommonFlags {
  images: string;
  masks?: string;
  maskPattern: string;
  normals: string;
  topK: number;
  boxMode: MaskBoxMode;
}
interface JsonlFlags extends CommonFlags {
  file: string;
  imageRoot: string;
}

function registerMvtec(parent: Command, io: CliIo): void {
  addCommonOptions(
    parent
      .command('mvtec')
      .summary('import an MVTec AD / VisA-style tree')
      .description(
        'Reads <root>/<class>/train/good, <class>/test/<defect> and <class>/ground_truth/<defect>/<stem>_mask.png (or <stem>.png). Defective test images get the tight box of their mask, test/good images the empty box; each gets the most similar train/good image of its class as reference (top-k kept in references_topk). Images are not copied: the manifest points to them relative to --out; only a reference of another size than its test image is cover-resized to it into OUT/images (reference_resized).',
      )
      .requiredOption('--root <dir>', 'folder holding one folder per class'),
  )
    .addOption(topKOption())
    .addOption(boxModeOption())
    .option('--subset <name>', 'subset written on every record (default: texture/object for MVTec AD classes)')
    .addHelpText('after', example(['differad data import mvtec --root ~/data/mvtec_ad --out data/mvtec --jobs 8']))
    .action(async (f: MvtecFlags) => {
      const ops = createDatasetImageOps();
      io.setExitCode(
        await runImport(io, 'mvtec', f, (c) =>
          importMvtec({ ...c, root: at(io, f.root), topK: f.topK, boxMode: f.boxMode, subset: f.subset }, ops),
        ),
      );
    });
}

function registerDeeppcb(parent: Command, io: CliIo): void {
  addCommonOptions(
    parent
      .command('deeppcb')
      .summary('import DeepPCB as single-defect windows')
      .description(
        'Reads the list files (trainval.txt, test.txt) in --root, which name groupG/G/<id>.jpg and groupG/G_not/<id>.txt; <id>_temp.jpg is the reference, <id>_test.jpg the target, annotations are "x1 y1 x2 y2 type" (1..6 = open, short, mousebite, spur, copper, pin-hole). Each defect that fits a window touching no other defect becomes one sample (the same window cut from both images, class = defect type); defect-free windows become normal samples (class "normal"). Crops go to OUT/images; subset = split; source.crop = the window in source pixels. An import that keeps none of the source\'s defects (each larger than --window, or without a window clear of the others) is an error that says which.',
      )
      .requiredOption('--root <dir>', 'folder holding the groupNNNNN folders and the list files'),
  )
    .addOption(new Option('--split <split>', 'list file(s) to import').choices([...DEEPPCB_SPLITS, 'all']).default('all'))
    .option('--window <px>', 'side of the square window', parseIntegerOption('--window', 8), 160)
    .option('--normals-per-image <n>', 'defect-free windows per pair', parseIntegerOption('--normals-per-image', 0), 1)
    .option('--seed <seed>', 'seed of the normal-window choice', 'deeppcb')
    .addHelpText('after', example(['differad data import deeppcb --root ~/data/DeepPCB/PCBData --out data/deeppcb --split test']))
    .action(async (f: DeeppcbFlags) => {
      const ops = createDatasetImageOps();
      const run = (c: ImportCommonOptions) =>
        importDeeppcb(
          { ...c, root: at(io, f.root), split: f.split, window: f.window, normalsPerImage: f.normalsPerImage, seed: f.seed },
          ops,
        );
      io.setExitCode(await runImport(io, 'deeppcb', f, run));
    });
}

function registerMasks(parent: Command, io: CliIo): void {
  addCommonOptions(
    parent
      .command('masks')
      .summary('import any folder of images with masks plus a folder of normal images')
      .description(
        "Class = first folder level under --images. An image whose mask exists (--mask-pattern, mirrored under --masks) is anomalous with the tight box of its mask; one without is normal. Each image is paired with the most similar image of --normals/<class>/ (or of --normals itself). Images stay where they are, at their own size; a reference of another size is cover-resized (one scale, centre crop) to its target's size into OUT/images and the record says so in reference_resized. Links to files and folders are followed; a link loop is an error.",
      )
      .requiredOption('--images <dir>', 'target images, one folder per class')
      .option('--masks <dir>', 'mask folder mirroring --images (default: masks beside their images)')
      .option('--mask-pattern <pattern>', 'mask file name; {stem} and {ext} are replaced', parseMaskPattern, '{stem}.png')
      .requiredOption('--normals <dir>', 'defect-free images: <dir>/<class>/… or directly in <dir>'),
  )
    .addOption(topKOption())
    .addOption(boxModeOption())
    .addHelpText(
      'after',
      example([
        "differad data import masks --images shots/ --masks labels/ --mask-pattern '{stem}_mask.png' --normals good/ --out data/shots",
      ]),
    )
    .action(async (f: MasksFlags) => {
      const ops = createDatasetImageOps();
      const run = (c: ImportCommonOptions) =>
        importMasks(
          {
            ...c,
            images: at(io, f.images),
            masks: f.masks === undefined ? undefined : at(io, f.masks),
            maskPattern: f.maskPattern,
            normals: at(io, f.normals),
            topK: f.topK,
            boxMode: f.boxMode,
          },
          ops,
        );
      io.setExitCode(await runImport(io, 'masks', f, run));
    });
}

function registerJsonl(parent: Command, io: CliIo): void {
  addCommonOptions(
    parent
      .command('jsonl')
      .summary("import the research code's JSONL (images + seg_gt_qwen2vl)")
      .description(
        'Reads lines {"images": [reference, target], "seg_gt_qwen2vl": [x1,y1,x2,y2] in norm1000 ([0,0,0,0] = normal), …}; relative image paths are resolved against --image-root and must stay inside it. Boxes are converted to target pixels; id, class (or category) and subset are kept when present.',
      )
      .requiredOption('--file <file>', 'research JSONL file')
      .requiredOption('--image-root <dir>', 'folder the image paths are relative to'),
  )
    .addHelpText('after', example(['differad data import jsonl --file train.jsonl --image-root ~/data/ad --out data/research']))
    .action(async (f: JsonlFlags) => {
      const ops = createDatasetImageOps();
      io.setExitCode(
        await runImport(io, 'jsonl', f, (c) => importResearchJsonl({ ...c, file: at(io, f.file), imageRoot: at(io, f.imageRoot) }, ops)),
      );
    });
}

function registerExport(data: Command, io: CliIo): void {
  data
    .command('export')
    .summary('write a manifest in another format')
    .addHelpText('after', helpText('\nExample:\n  differad data export jsonl --manifest data/deeppcb/manifest.jsonl --out deeppcb.jsonl'))
    .command('jsonl')
    .summary("write a manifest as the research code's JSONL")
    .description(
      'Writes {"id","class","subset","images":[reference,target],"seg_gt_qwen2vl":[norm1000 box or 0,0,0,0],"width","height"} per record, atomically. Image paths are absolute, or relative to --image-root.',
    )
    .requiredOption('--manifest <file>', 'manifest to export')
    .requiredOption('--out <file>', 'output JSONL file')
    .option('--image-root <dir>', 'write image paths relative to this folder')
    .addHelpText(
      'after',
      example(['differad data export jsonl --manifest data/deeppcb/manifest.jsonl --out deeppcb.jsonl --image-root data']),
    )
    .action(async (f: { manifest: string; out: string; imageRoot?: string }) => {
      const n = await exportResearchJsonl({
        manifest: at(io, f.manifest),
        out: at(io, f.out),
        imageRoot: f.imageRoot === undefined ? undefined : at(io, f.imageRoot),
      });
      io.stdout(`exported ${n} record(s) → ${at(io, f.out)}\n`);
      io.setExitCode(0);
    });
}

/** Registers `differad data import …` and `differad data export jsonl` under `data`. */
export function registerDataImportCommands(data: Command, io: CliIo): void {
  const imports = data
    .command('import')
    .summary('import a dataset into OUT/manifest.jsonl (mvtec, deeppcb, masks, jsonl)')
    .description(
      'Imports a dataset into OUT/manifest.jsonl plus derived images under OUT/; a failed import leaves OUT as it was. Run `differad data import <kind> --help` for the options of each kind.',
    )
    .addHelpText(
      'after',
      example([
        'differad data import mvtec --root ~/data/mvtec_ad --out data/mvtec',
        'differad data import deeppcb --root ~/data/DeepPCB/PCBData --out data/deeppcb',
        "differad data import masks --images shots/ --masks labels/ --mask-pattern '{stem}_mask.png' --normals good/ --out data/shots",
        'differad data import jsonl --file train.jsonl --image-root ~/data/ad --out data/research',
      ]),
    );
  registerMvtec(imports, io);
  registerDeeppcb(imports, io);
  registerMasks(imports, io);
  registerJsonl(imports, io);
  registerExport(data, io);
}
