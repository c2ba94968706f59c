import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng, DifferadError } from '@differad/core';
import { drawExamplePair, EXAMPLE_CLASSES, writeRawImage } from '@differad/images';
import type { Command } from 'commander';
import { type CliIo, parseIntegerOption, resolvePath } from '../cli-io.js';
import { helpText } from '../help-text.js';
import { simulateAnswer } from '../example/simulate-answer.js';

export interface ExampleOptions {
  out: string;
  pairs: number;
  seed: string;
  force?: boolean;
  normalsOnly?: boolean;
}

/** `--normals-only`: defect-free product images only, as input for `differad synth`. */
async function writeNormals(opts: ExampleOptions, io: CliIo, out: string): Promise<number> {
  const dir = join(out, 'normals');
  if (existsSync(dir) && !opts.force) throw new DifferadError('OUTPUT_EXISTS', `${dir} exists; pass --force to overwrite it`);
  await rm(dir, { recursive: true, force: true });
  const rng = createRng(opts.seed);
  for (let k = 0; k < opts.pairs; k++) {
    const cls = EXAMPLE_CLASSES[k % EXAMPLE_CLASSES.length]!;
    const pair = drawExamplePair(rng, cls.name, 256, 256, false);
    await writeRawImage(join(dir, `${cls.name}-${String(k).padStart(4, '0')}.png`), pair.reference);
  }
  io.stdout(`wrote ${opts.pairs} defect-free images to ${join(opts.out, 'normals')}\n`);
  return 0;
}

/** Runs `differad example`: writes example pairs, a manifest and a stand-in model's answers. */
export async function runExample(opts: ExampleOptions, io: CliIo): Promise<number> {
  const out = resolvePath(io, opts.out);
  if (opts.normalsOnly) return writeNormals(opts, io, out);
  const manifestPath = join(out, 'manifest.jsonl');
  if (existsSync(manifestPath) && !opts.force) {
    throw new DifferadError('OUTPUT_EXISTS', `${manifestPath} exists; pass --force to overwrite the example in ${opts.out}`);
  }
  if (opts.force) await rm(join(out, 'images'), { recursive: true, force: true });
  await mkdir(join(out, 'images'), { recursive: true });
  const rng = createRng(opts.seed);
  const manifest: string[] = [];
  const predictions: string[] = [];
  for (let k = 0; k < opts.pairs; k++) {
    const cls = EXAMPLE_CLASSES[k % EXAMPLE_CLASSES.length]!;
    const width = rng.pick([192, 224, 256]);
    const height = rng.pick([160, 192, 224]);
    const anomalous = rng.next() >= 0.25;
    const pair = drawExamplePair(rng, cls.name, width, height, anomalous);
    const id = `${cls.name}-${String(k).padStart(4, '0')}`;
    const reference = `images/${id}-reference.png`;
    const target = `images/${id}-target.png`;
    await writeRawImage(join(out, reference), pair.reference);
    await writeRawImage(join(out, target), pair.target);
    manifest.push(JSON.stringify({ id, class: cls.name, subset: cls.subset, reference, target, width, height, box: pair.box }));
    predictions.push(JSON.stringify({ id, completion: simulateAnswer(rng, pair.box, width, height) }));
    if (io.interactive && ((k + 1) % 10 === 0 || k + 1 === opts.pairs)) io.stderr(`\rexample: ${k + 1}/${opts.pairs} pairs`);
  }
  if (io.interactive) io.stderr('\n');
  await writeFile(manifestPath, `${manifest.join('\n')}\n`);
  await writeFile(join(out, 'predictions.jsonl'), `${predictions.join('\n')}\n`);
  io.stdout(`wrote ${opts.pairs} pairs to ${opts.out}: manifest.jsonl, predictions.jsonl, images/\n`);
  return 0;
}

/** Registers `differad example` on the program. */
export function registerExampleCommand(program: Command, io: CliIo): void {
  program
    .command('example')
    .summary('write a small example dataset and model answers to try the tools on')
    .description(
      'Draws example reference/target pairs of three product classes (a texture and two objects; about a ' +
        'quarter normal), writes manifest.jsonl with pixel boxes, and predictions.jsonl holding the answers of a ' +
        'stand-in model in the differad format (norm1000), some of them wrong, empty or malformed.',
    )
    .requiredOption('--out <dir>', 'output folder')
    .option('--pairs <n>', 'number of pairs', parseIntegerOption('--pairs'), 60)
    .option('--seed <seed>', 'random seed (same seed, same files)', '1')
    .option('--force', 'overwrite an existing example in --out')
    .option('--normals-only', 'write only defect-free 256×256 product images to OUT/normals (input for differad synth)')
    .addHelpText(
      'after',
      helpText(
        '\nExample:\n  differad example --out .demo && differad score --manifest .demo/manifest.jsonl --predictions .demo/predictions.jsonl',
      ),
    )
    .action(async (opts: ExampleOptions) => {
      io.setExitCode(await runExample(opts, io));
    });
}
