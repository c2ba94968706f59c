import { SQUARE_FITS } from '@differad/images';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { type CliIo, parseIntegerOption, parseNumberOption } from '../cli-io.js';
import { helpText } from '../help-text.js';
import { FOREGROUND_CHOICES, isForegroundMode, runSynth, type SynthCommandOptions } from '../synth/run-synth.js';

function parseProbability(value: string): number {
  const p = parseNumberOption('--p-normal')(value);
  if (p < 0 || p > 1) throw new InvalidArgumentError(`--p-normal needs a probability in [0, 1], got ${value}`);
  return p;
}

/** `--foreground` is a choice with an argument (`masks:DIR`), so commander's `.choices()` cannot check it. */
function parseForeground(value: string): string {
  if (!isForegroundMode(value))
    throw new InvalidArgumentError(`Allowed choices are ${FOREGROUND_CHOICES.join(', ')} (a folder of <stem>.png masks).`);
  return value;
}

/** Registers `differad synth` on the program. */
export function registerSynthCommand(program: Command, io: CliIo): void {
  program
    .command('synth')
    .summary('make synthetic anomaly pairs from defect-free images (Algorithm 1)')
    .description(
      [
        'For each pair: a defect-free image of any size, fitted to --size × --size (see --fit; enlarged when smaller), is the reference; with probability --p-normal the target is the reference itself (empty box), otherwise a Perlin-noise region inside the foreground is filled with an augmented texture (β ~ U(0, 0.8)). Brightness jitter and a small rotation are applied to target and mask together; the box is the tight box of the final mask.',
        'Writes references/, pairs/ (target and mask images) and manifest.jsonl (pixel boxes). Same seed and inputs, same bytes, whatever --jobs is. Ctrl-C stops early and keeps a valid manifest of the finished pairs; an error leaves --out as it was.',
      ].join('\n\n'),
    )
    .requiredOption('--normals <dir>', 'folder of defect-free images (searched recursively)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--textures <dir>', 'folder of texture images (default: built-in noise, stripes, cracks, spots)')
    .option('--count <n>', 'number of pairs', parseIntegerOption('--count'), 100)
    .option('--p-normal <p>', 'share of normal pairs', parseProbability, 0.25)
    .option('--size <px>', 'side of the square output images', parseIntegerOption('--size', 64), 512)
    .addOption(
      new Option(
        '--fit <mode>',
        'how each normal becomes size×size: cover (short side to size, centre crop) or contain (long side to size, padded by repeating the edge pixels; no anomaly goes on the padding)',
      )
        .choices(SQUARE_FITS)
        .default('cover'),
    )
    .option('--seed <seed>', 'random seed', '1')
    .option('--jobs <n>', 'worker threads', parseIntegerOption('--jobs'), 1)
    .option(
      '--foreground <mode>',
      'where anomalies may go: otsu (objects), none (textures), masks:DIR (<stem>.png per normal)',
      parseForeground,
      'otsu',
    )
    .addOption(new Option('--format <fmt>', 'target image format').choices(['png', 'jpeg']).default('png'))
    .option('--max-rotation <deg>', 'largest rotation of target and mask together, in degrees', parseNumberOption('--max-rotation'), 3)
    .option('--brightness-jitter <j>', 'target brightness gain drawn from U(1 − j, 1 + j)', parseNumberOption('--brightness-jitter'), 0.08)
    .option('--class <name>', 'class name in the manifest (default: the normals folder name)')
    .option('--jsonl', 'also write research.jsonl (images [reference, target], seg_gt_qwen2vl in norm1000)')
    .option('--preview [n]', 'also write preview.png: reference | target | mask | box for the first n pairs (default 12)', (v) =>
      parseIntegerOption('--preview')(v),
    )
    .option('--force', 'replace an existing manifest in --out')
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad synth --normals data/screw/train/good --out synth/screw --count 2000 --jobs 2\n' +
          '  differad synth --normals data/carpet/good --textures textures/ --foreground none --size 256 --jsonl --out synth/carpet',
      ),
    )
    .action(async (raw: Omit<SynthCommandOptions, 'preview'> & { preview?: number | true }) => {
      const opts: SynthCommandOptions = { ...raw, preview: raw.preview === true ? 12 : raw.preview };
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        io.setExitCode(await runSynth(opts, io, controller.signal));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
