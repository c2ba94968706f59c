import { DEFAULT_CALIBRATION_SHARE, DEFAULT_CPU_POLICY } from '@differad/core';
import { type Command, InvalidArgumentError } from 'commander';
import { type BaselineOptions, runBaseline } from '../baseline/run-baseline.js';
import { type CliIo, parseIntegerOption, parseNumberOption } from '../cli-io.js';
import { helpText } from '../help-text.js';

function parseShare(value: string): number {
  const share = parseNumberOption('--calibration')(value);
  if (!(share > 0 && share < 1)) throw new InvalidArgumentError(`--calibration needs a share in (0, 1), got "${value}"`);
  return share;
}

function parseBlur(value: string): number {
  const blur = parseNumberOption('--blur')(value);
  const { min, max } = DEFAULT_CPU_POLICY.params.blur!;
  if (blur < min || blur > max) throw new InvalidArgumentError(`--blur needs a radius in [${min}, ${max}] working pixels, got "${value}"`);
  return blur;
}

/** Registers `differad baseline` on the program. */
export function registerBaselineCommand(program: Command, io: CliIo): void {
  program
    .command('baseline')
    .summary('the non-LLM baseline (docs/method.md §11): threshold the CPU policy’s anomaly map, calibrated on 30% of a manifest')
    .description(
      'Computes every pair’s anomaly map with the built-in CPU policy’s detector, in process (target aligned to the ' +
        'reference, absolute grey-level difference at a working size of at most 160 pixels, box-blurred with the ' +
        'policy’s mean radius or --blur). A seeded shuffle puts --calibration of the samples in a calibration part; ' +
        'on it, the threshold that maximizes F1@τ (docs/method.md §8) is chosen among up to 256 quantiles of the distinct map ' +
        'values (ties: higher Acc@τ, then the median tied threshold). Each map → box is the tight box of the ' +
        'largest 8-connected component above the threshold; none means "normal". The rest is scored exactly as ' +
        '`differad score` scores pixel boxes, and written under --out (see below).',
    )
    .requiredOption('--manifest <file>', 'manifest JSONL of the pairs (at least 2)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--calibration <share>', 'share of the samples that calibrates the threshold', parseShare, DEFAULT_CALIBRATION_SHARE)
    .option('--seed <seed>', 'seed of the calibration split', parseIntegerOption('--seed', 0), 0)
    .option(
      '--blur <radius>',
      `box-blur radius of the map in working pixels (default: the policy mean, ${DEFAULT_CPU_POLICY.params.blur?.mean})`,
      parseBlur,
    )
    .option('--json', 'print the summary (metrics.json) as JSON instead of a table')
    .addHelpText(
      'after',
      helpText(
        '\nWrites under --out:\n' +
          '  predictions.jsonl  {"id","box"} in target pixels (null = normal), evaluation part\n' +
          '  scores.jsonl       per-sample scores (as `differad score --out`)\n' +
          '  metrics.json       the `differad score --json` summary of the evaluation part, plus "baseline": ' +
          '{threshold, blur, seed, calibration_n, calibration_f1, calibration_ids, …}\n' +
          '\nExamples:\n' +
          '  differad baseline --manifest data/deeppcb/manifest.jsonl --out baselines/deeppcb\n' +
          '  differad baseline --manifest data/mvtec/manifest.jsonl --out baselines/mvtec --calibration 0.3 --seed 1 --blur 3 --json\n' +
          '\nExit codes: 0 done; 1 wrong usage; 2 unusable input (bad manifest, missing or undecodable image).',
      ),
    )
    .action(async (opts: BaselineOptions) => {
      io.setExitCode(await runBaseline(opts, io));
    });
}
