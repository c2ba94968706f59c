import { FRAMES, MODEL_FAMILIES } from '@differad/core';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CliIo, parseIntegerOption, parseNumberOption } from '../cli-io.js';
import { helpText } from '../help-text.js';
import type { EvalConcurrency } from '../eval/eval-loop.js';
import { describeEvalOptionProblem, type EvalOptions } from '../eval/eval-options.js';
import { runEval } from '../eval/run-eval.js';

function parseConcurrency(value: string): EvalConcurrency {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--concurrency needs "auto" or an integer ≥ 1, got "${value}"`);
  return n;
}

function parseTimeout(value: string): number {
  const s = parseNumberOption('--timeout')(value);
  if (s <= 0) throw new InvalidArgumentError(`--timeout needs a positive number of seconds, got "${value}"`);
  return s;
}

/** Registers `differad eval` on the program. */
export function registerEvalCommand(program: Command, io: CliIo): void {
  program
    .command('eval')
    .summary('evaluate a model (OpenAI-compatible servers or the built-in CPU policy) on a manifest')
    .description(
      'Asks the model once per pair (greedy: temperature 0, n = 1; reference image first, then target, then a system instruction and one instruction drawn per pair from a paraphrase pool), through a fleet client that routes by load, retries failed or timed-out requests on another server and ejects failing ones. Scores the answers exactly as `differad score` does and writes, under --out:\n' +
        '  eval-run.json      the model, manifest and settings that made the answers\n' +
        '  predictions.jsonl  {"id","completion","server","latency_ms"} per answer\n' +
        '  scores.jsonl       per-sample scores (as `differad score --out`)\n' +
        '  metrics.json       the `differad score --json` summary\n' +
        '  report.html        tables, worst and best samples with boxes, invalid answers\n' +
        "The model is a served one (--endpoint with --model) or the built-in CPU policy started in this process: its default policy (--policy cpu), the final policy of a run trained with the CPU trainer (--run: the trainer's weight file of the last completed step, runs/<id>/trainer/weights/policy-v<N>.json; the held-out manifest of the run unless --manifest), or any policy file (--policy-file). " +
        'A run trained by another trainer (a GPU run) keeps its weights at that trainer: --run says so and how to evaluate it with --endpoint.\n' +
        'Rerunning with the same --out asks only the ids not yet in predictions.jsonl, and only when eval-run.json matches this run: model, backend, family, frame, manifest path and content, prompt pool, seed, sampling, resize and the sha256 of the policy file served (--run, --policy-file) must be the same, while --limit, --concurrency, --timeout and the list of servers may change.\n' +
        'Otherwise eval stops before any request (exit 2) with EVAL_OUTPUT_MISMATCH naming each setting that differs with its old and new value, or with EVAL_OUTPUT_UNRECORDED for answers without eval-run.json (an older differad); use a new --out, or --force to remove those files and start afresh.\n' +
        'Ctrl-C stops issuing requests, keeps and scores what finished, and exits with 130.',
    )
    .option('--manifest <file>', "manifest JSONL of the pairs to evaluate (with --run, default the run's held-out manifest, data.eval)")
    .requiredOption('--out <dir>', 'output folder (a rerun with the same settings resumes it)')
    .option('--endpoint <urls>', 'comma-separated base URLs of OpenAI-compatible servers, e.g. http://gpu1:8000,http://gpu2:8000')
    .option('--model <name>', 'served model name (with --endpoint)')
    .addOption(
      new Option('--policy <name>', 'start the built-in policy in this process instead of --endpoint (its default policy)').choices([
        'cpu',
      ]),
    )
    .option(
      '--run <run>',
      'start the built-in CPU policy in this process with the final policy of a finished `differad train` run: a run id under --runs-dir, or the path of a run folder',
    )
    .option('--runs-dir <dir>', 'folder of run folders where --run looks a run id up (default runs)')
    .option(
      '--policy-file <file>',
      "start the built-in CPU policy in this process with this policy file (GaussianPolicy JSON, e.g. a run's trainer/weights/policy-v<N>.json)",
    )
    .addOption(new Option('--family <name>', 'model family: prompt wording and answer parsing').choices(MODEL_FAMILIES).default('differad'))
    .addOption(
      new Option('--frame <frame>', 'frame the model answers in (norm1000 and resized-pixels send the Qwen-resized image)')
        .choices(FRAMES)
        .default('norm1000'),
    )
    .option('--prompts <file>', "instruction pool: a JSON array of strings (default: the project's own pool)")
    .option(
      '--concurrency <n>',
      'requests in flight: auto (the fleet’s adaptive limits) or a number',
      parseConcurrency,
      'auto' as EvalConcurrency,
    )
    .option('--limit <n>', 'evaluate only the first N pairs of the manifest', parseIntegerOption('--limit'))
    .option('--seed <seed>', 'seed of the instruction draw and the request seeds', parseIntegerOption('--seed', 0), 0)
    .option('--timeout <seconds>', 'deadline of one request; a request past it is retried on another server', parseTimeout, 120)
    .option('--json', 'print the summary (metrics.json) as JSON instead of a table')
    .option(
      '--force',
      'start afresh in --out: remove the files eval wrote there (eval-run.json, predictions.jsonl, scores.jsonl, metrics.json, report.html; nothing else) instead of refusing answers made with other settings',
    )
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad eval --manifest data/deeppcb/manifest.jsonl --out eval/cpu --policy cpu\n' +
          '  differad eval --run run-20261128-101500 --out eval/trained\n' +
          '  differad eval --run runs/deeppcb-s1 --manifest data/deeppcb/test.jsonl --out eval/deeppcb-s1-test\n' +
          '  differad eval --policy-file my-policy.json --manifest m.jsonl --out eval/mine\n' +
          '  differad eval --manifest data/mvtec/manifest.jsonl --out eval/qwen --endpoint http://gpu1:8000,http://gpu2:8000 \\\n' +
          '    --model Qwen/Qwen2.5-VL-7B-Instruct --family qwen2.5-vl --frame resized-pixels --limit 500\n' +
          '\nExit codes:\n' +
          '  0    every sample answered\n' +
          '  1    wrong usage\n' +
          '  2    unusable input (bad manifest, unreachable endpoint, unknown model, unknown run (EVAL_RUN_UNKNOWN), a run without a policy (EVAL_RUN_UNTRAINED) or trained outside differad (EVAL_RUN_NOT_CPU), an invalid policy file (POLICY_INVALID), --out holding answers of other settings) or samples left unanswered (rerun to retry them)\n' +
          '  130  interrupted (finished samples kept)',
      ),
    )
    .action(async (opts: EvalOptions, command: Command) => {
      const problem = describeEvalOptionProblem(opts);
      if (problem !== null) command.error(`error: ${problem}`, { exitCode: 1, code: 'differad.eval.options' });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        io.setExitCode(await runEval(opts, io, controller.signal));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
