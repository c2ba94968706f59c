import { loadConfig } from '@differad/config';
import {
  DifferadError,
  FRAMES,
  type Frame,
  LOC_REWARD_VARIANTS,
  type LocRewardVariant,
  MODEL_FAMILIES,
  type ModelFamily,
} from '@differad/core';
import { formatLineProblems } from '@differad/datasets';
import { type Command, Option } from 'commander';
import { openScores } from '../eval/score-stream.js';
import { formatMetricTable } from '../output/score-table.js';
import { type CliIo, parseNumberOption, resolvePath } from '../cli-io.js';
import { helpText } from '../help-text.js';

export interface ScoreOptions {
  manifest: string;
  predictions: string;
  family: ModelFamily;
  frame: Frame;
  reward?: LocRewardVariant;
  alpha?: number;
  lambda?: number;
  tau?: number;
  kappa?: number;
  minPixels?: number;
  maxPixels?: number;
  config?: string;
  out?: string;
  json?: boolean;
}

/** Runs `differad score`; returns the exit code. */
export async function runScore(opts: ScoreOptions, io: CliIo): Promise<number> {
  const started = performance.now();
  const config = loadConfig({
    env: io.env,
    file: opts.config === undefined ? undefined : resolvePath(io, opts.config),
    flags: {
      reward: { variant: opts.reward, alpha: opts.alpha, lambda: opts.lambda, tau: opts.tau, kappa: opts.kappa },
      resize: { minPixels: opts.minPixels, maxPixels: opts.maxPixels },
    },
  });
  const settings = { family: opts.family, frame: opts.frame, resize: config.resize, reward: config.reward };
  const scores = await openScores({
    manifestPath: resolvePath(io, opts.manifest),
    predictionsPath: resolvePath(io, opts.predictions),
    settings,
  });
  const { scan } = scores;
  if (scan.problemCount > 0) {
    const more = scan.problemCount - scan.examples.length;
    io.stderr(
      `warning: ${scan.problemCount} prediction line(s) not used:\n${formatLineProblems(scan.examples)}${more > 0 ? `\n… and ${more} more` : ''}\n`,
    );
  }
  if (scan.used === 0) {
    throw new DifferadError('PREDICTIONS_UNUSABLE', `${opts.predictions} has no usable prediction for any id of ${opts.manifest}`);
  }
  const { summary, missingIds } = await scores.writeScores({
    out: opts.out === undefined ? undefined : resolvePath(io, opts.out),
    manifestPath: opts.manifest,
    predictionsPath: opts.predictions,
  });
  const missing = summary.input.missing;
  if (missing > 0) {
    io.stderr(
      `warning: ${missing} manifest id(s) have no prediction and are scored as invalid: ${missingIds.join(', ')}${missing > missingIds.length ? ', …' : ''}\n`,
    );
  }
  if (opts.json) {
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const r = summary.rewards;
    const i = summary.input;
    const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(4));
    io.stdout(
      [
        `differad score: ${i.samples} samples · family ${opts.family} · frame ${opts.frame} · reward ${config.reward.variant} · τ ${summary.tau}`,
        '',
        formatMetricTable(summary),
        '',
        `rewards (mean): format ${fmt(r.format_mean)} · localization ${fmt(r.loc_mean)} · total ${fmt(r.reward_mean)}`,
        `answers: ${i.samples - i.invalid - i.missing} valid · ${i.invalid} invalid · ${i.missing} missing`,
        `prediction lines: ${i.prediction_lines} read · ${i.used} used · ${i.malformed} malformed · ${i.duplicates} duplicate · ${i.unknown_ids} unknown id`,
        opts.out ? `per-sample scores: ${opts.out}` : '',
      ]
        .filter((l, k, all) => l !== '' || (k > 0 && all[k - 1] !== ''))
        .join('\n') + '\n',
    );
  }
  io.stderr(`scored ${summary.input.samples} samples in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  return 0;
}

/** Registers `differad score` on the program. */
export function registerScoreCommand(program: Command, io: CliIo): void {
  program
    .command('score')
    .summary('score model answers against ground truth (rewards and metrics)')
    .description(
      'Scores predictions against a manifest: per sample the format reward, the localization reward and the ' +
        'evaluation IoU; overall, per class, per subset and class mean Acc@τ, F1@τ, mIoU, mIoU_ano, mIoU_nor. ' +
        'Predictions are {"id","completion"} (model text, parsed with --family, boxes in --frame) or ' +
        '{"id","box":[x1,y1,x2,y2]|null} in pixels. Ids without a prediction are scored as invalid.',
    )
    .requiredOption('--manifest <file>', 'manifest JSONL: {"id","class","subset"?,"reference","target","width","height","box"|null}')
    .requiredOption('--predictions <file>', 'predictions JSONL: {"id","completion"} or {"id","box"}')
    .addOption(new Option('--family <name>', 'model family whose answer format to parse').choices(MODEL_FAMILIES).default('differad'))
    .addOption(new Option('--frame <frame>', 'frame of boxes in completions').choices(FRAMES).default('norm1000'))
    .addOption(new Option('--reward <variant>', 'localization reward variant (default dclr)').choices(LOC_REWARD_VARIANTS))
    .option('--alpha <number>', 'weight of the centre term in S_cons (default 0.6)', parseNumberOption('--alpha'))
    .option('--lambda <number>', 'share of S_cons added below τ (default 0.3)', parseNumberOption('--lambda'))
    .option('--tau <number>', 'IoU threshold of the metrics and of the reward (default 0.3)', parseNumberOption('--tau'))
    .option('--kappa <number>', 'gain of the bounded adjustment above τ (default 0.05)', parseNumberOption('--kappa'))
    .option('--min-pixels <n>', 'resized-pixels frame: minimum pixels (default 3136)', parseNumberOption('--min-pixels'))
    .option('--max-pixels <n>', 'resized-pixels frame: maximum pixels (default 401408)', parseNumberOption('--max-pixels'))
    .option('--config <file>', 'YAML or JSON config file (flags > DIFFERAD_* env > file > defaults)')
    .option('--out <file>', 'write one JSON line of scores per sample')
    .option('--json', 'print the summary as one JSON object instead of a table')
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad score --manifest data/test.jsonl --predictions answers.jsonl\n' +
          '  differad score --manifest m.jsonl --predictions p.jsonl --family qwen2.5-vl --frame resized-pixels --json\n' +
          '  differad score --manifest m.jsonl --predictions p.jsonl --reward dclr-released --out per-sample.jsonl\n' +
          '\nExit codes: 0 scored; 1 wrong usage (a bad flag value, --tau 2 included); 2 unusable input (bad manifest, unreadable file, a bad value in the config file or a DIFFERAD_* variable).',
      ),
    )
    .action(async (opts: ScoreOptions) => {
      io.setExitCode(await runScore(opts, io));
    });
}
