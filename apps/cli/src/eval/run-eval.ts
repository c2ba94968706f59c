import { join } from 'node:path';
import { type DifferadConfig, loadConfig } from '@differad/config';
import { DifferadError, INSTRUCTION_POOL, type SampleScore, type ScoreSettings } from '@differad/core';
import { CPU_POLICY_MODEL } from '@differad/cpu-policy';
import { indexManifest, loadPromptPool, type ManifestIndex } from '@differad/datasets';
import { createFleet } from '@differad/inference';
import { type CliIo, resolvePath } from '../cli-io.js';
import { formatMetricTable } from '../output/score-table.js';
import { createProgress } from '../output/progress.js';
import { checkEndpoints, type EvalBackend, parseEndpoints, startCpuBackend } from './eval-backend.js';
import { checkManifestPairFiles } from './eval-inputs.js';
import { type EvalLoopResult, runEvalLoop } from './eval-loop.js';
import { describeEvalOptionProblem, type EvalOptions, isInProcessPolicy } from './eval-options.js';
import { type EvalPolicyFile, loadEvalPolicyFile } from './eval-policy.js';
import { writeEvalOutputs } from './eval-outputs.js';
import { discardEvalOutputs, settleEvalRunFolder, startEvalRun } from './eval-run-folder.js';
import type { EvalRunRecord } from './eval-run-record.js';
import type { ScoreSummary } from './score-summary.js';
import { createPairAsker } from './pair-request.js';
import { findPendingWork, type PendingWork } from './pending-work.js';
import { openPredictionLog, type PredictionLog } from './prediction-log.js';

/** Slots of the in-process CPU policy: its detector shares this process's event loop. */
const CPU_SLOTS = 4;

/** Running Acc@τ over every answered sample, resumed ones included. */
function createAccuracy(settings: ScoreSettings) {
  let hits = 0;
  let n = 0;
  return {
    add(score: SampleScore) {
      n++;
      if (score.u >= settings.reward.tau) hits++;
    },
    text: () => `Acc@${settings.reward.tau} ${n > 0 ? ((100 * hits) / n).toFixed(1) : '—'}%`,
  };
}

/** What every phase of a run shares, settled before any request. */
interface EvalContext {
  readonly opts: EvalOptions;
  /** The manifest as the user named it (or the run's held-out manifest with --run). */
  readonly manifestArg: string;
  /** The CPU policy file served in process (--run, --policy-file), or null. */
  readonly policyFile: EvalPolicyFile | null;
  readonly io: CliIo;
  readonly warn: (message: string) => void;
  readonly config: DifferadConfig;
  readonly settings: ScoreSettings;
  /** The manifest's ids (validated; its records are streamed from the file when needed). */
  readonly index: ManifestIndex;
  /** How many records this run evaluates: the first --limit of the manifest. */
  readonly selected: number;
  readonly pool: readonly string[] | undefined;
  readonly outDir: string;
  /** Parsed --endpoint URLs (empty with --policy cpu). */
  readonly endpoints: readonly string[];
  /** How the report and the console name the model. */
  readonly modelLabel: string;
  /** What this run records in eval-run.json when it starts afresh. */
  readonly record: EvalRunRecord;
  /** Resume the answers in --out, or ask everything (eval's old files there go before the first request). */
  readonly start: 'resume' | 'fresh';
}

/** Validates everything that can be validated before the first request: options, config, manifest and its files, prompts. */
async function prepareEval(opts: EvalOptions, io: CliIo): Promise<EvalContext> {
  const problem = describeEvalOptionProblem(opts);
  if (problem !== null) throw new DifferadError('EVAL_OPTIONS_INVALID', problem);
  const config = loadConfig({ env: io.env });
  const policyFile = await loadEvalPolicyFile(io, opts);
  const manifestArg = opts.manifest ?? policyFile?.run?.heldOut;
  if (manifestArg === undefined) {
    throw new DifferadError(
      'EVAL_OPTIONS_INVALID',
      `run ${policyFile?.run?.id ?? opts.run} has no held-out manifest (data.eval): pass --manifest FILE`,
      { details: { flag: '--manifest' } },
    );
  }
  const index = await indexManifest(resolvePath(io, manifestArg));
  const selected = Math.min(index.size, opts.limit ?? index.size);
  await checkManifestPairFiles(index.path, selected);
  const pool = opts.prompts === undefined ? undefined : await loadPromptPool(resolvePath(io, opts.prompts));
  const endpoints = opts.endpoint === undefined ? [] : parseEndpoints(opts.endpoint);
  const outDir = resolvePath(io, opts.out);
  const { record, start } = await settleEvalRunFolder(outDir, {
    settings: {
      backend: isInProcessPolicy(opts) ? 'policy cpu' : 'endpoint',
      model: isInProcessPolicy(opts) ? CPU_POLICY_MODEL : (opts.model ?? ''),
      ...(policyFile === null ? {} : { policySha256: policyFile.sha256 }),
      family: opts.family,
      frame: opts.frame,
      manifestPath: index.path,
      pool,
      seed: opts.seed,
      maxTokens: config.sampling.maxTokens,
      resize: config.resize,
    },
    context: {
      endpoints,
      manifest_arg: manifestArg,
      prompts_arg: opts.prompts ?? null,
      limit: opts.limit ?? null,
      ...toPolicyContext(policyFile),
    },
    force: opts.force === true,
  });
  return {
    opts,
    manifestArg,
    policyFile,
    io,
    warn: (message) => io.stderr(`${io.interactive ? '\r\x1b[2K' : ''}${message}\n`),
    config,
    settings: { family: opts.family, frame: opts.frame, resize: config.resize, reward: config.reward },
    index,
    selected,
    pool,
    outDir,
    endpoints,
    modelLabel: isInProcessPolicy(opts) ? toCpuPolicyLabel(policyFile) : `${opts.model ?? ''} at ${endpoints.join(', ')}`,
    record,
    start,
  };
}

/** What eval-run.json's context says of a served policy file (recorded, never compared: its sha256 is a setting). */
function toPolicyContext(file: EvalPolicyFile | null): Record<string, unknown> {
  if (file === null) return {};
  const run =
    file.run === null
      ? {}
      : { run: file.run.id, run_dir: file.run.dir, run_step: file.run.step, policy_weight_version: file.run.weightVersion };
  return { policy_file: file.path, policy_version: file.policy.version, ...run };
}

function toCpuPolicyLabel(file: EvalPolicyFile | null): string {
  if (file === null) return `built-in CPU policy (${CPU_POLICY_MODEL}, in process)`;
  const from = file.run === null ? file.path : `run ${file.run.id} after step ${file.run.step}, ${file.path}`;
  return `built-in CPU policy (${CPU_POLICY_MODEL}, in process, policy v${file.policy.version} of ${from})`;
}

/** Starts the in-process CPU policy, or checks the endpoints and the model (clear errors before any request). */
function startBackend(ctx: EvalContext): Promise<EvalBackend> {
  const { opts } = ctx;
  if (isInProcessPolicy(opts)) return startCpuBackend(opts.seed, CPU_SLOTS, ctx.policyFile?.policy);
  return checkEndpoints(ctx.endpoints, opts.model ?? '', ctx.warn);
}

type Accuracy = ReturnType<typeof createAccuracy>;
type Answered = { result: EvalLoopResult; failedIds: string[] };

/** Asks the pending records through a fleet over the started backend, appending answers to `log`. */
async function askFleet(
  ctx: EvalContext,
  backend: EvalBackend,
  work: PendingWork,
  log: PredictionLog,
  accuracy: Accuracy,
  signal: AbortSignal,
): Promise<Answered> {
  const { opts, io, index, config } = ctx;
  const failedIds: string[] = [];
  let heartbeat: NodeJS.Timeout | undefined;
  const fleet = createFleet({ servers: [...backend.servers], model: backend.model, timeoutMs: Math.round(opts.timeout * 1000) });
  try {
    await fleet.start();
    const progress = createProgress(io, 'eval', work.pending);
    let done = 0;
    // The fleet's timers (deadlines, retry backoff) are unref'd; this ref'd one keeps the process alive while
    // requests wait in a backoff, and refreshes rate and ETA while answers are slow to come.
    heartbeat = setInterval(() => progress.tick(done, accuracy.text()), 1000);
    const result = await runEvalLoop({
      records: work.records(),
      ask: createPairAsker({
        manifestPath: index.path,
        fleet,
        score: ctx.settings,
        seed: opts.seed,
        pool: ctx.pool,
        maxTokens: config.sampling.maxTokens,
      }),
      fleet,
      log,
      concurrency: opts.concurrency,
      signal,
      onAnswer: (_record, evaluation) => {
        accuracy.add(evaluation.score);
        progress.tick(++done, accuracy.text());
      },
      onFailure: (record, error) => {
        failedIds.push(record.id);
        ctx.warn(`warning: ${record.id}: not answered: ${(error as Error).message}`);
      },
    });
    progress.finish(accuracy.text());
    return { result, failedIds };
  } finally {
    clearInterval(heartbeat);
    await fleet.close();
  }
}

/**
 * Asks the fleet for every selected record not yet in predictions.jsonl,
 * appending answers as they come. What is answered is read by scoring the
 * file as it streams (findPendingWork: one byte a record), and the records to
 * ask stream from the manifest, so memory does not grow with either file.
 * The backend is started (or checked) only when something is left to ask, so
 * re-scoring a finished run needs no server; a fresh start removes eval's old
 * files only once the backend passed its checks, so a failed check costs
 * nothing.
 */
async function answerPending(ctx: EvalContext, signal: AbortSignal): Promise<Answered> {
  const { io } = ctx;
  const path = join(ctx.outDir, 'predictions.jsonl');
  let log = ctx.start === 'resume' ? await openPredictionLog(path, ctx.warn) : null;
  try {
    const accuracy = createAccuracy(ctx.settings);
    const work = await findPendingWork({
      index: ctx.index,
      predictionsPath: log === null ? null : path,
      settings: ctx.settings,
      limit: ctx.selected,
      onResumed: accuracy.add,
    });
    if (work.answered > 0) io.stderr(`resuming: ${work.answered} of ${work.selected} samples already answered in ${path}\n`);
    if (work.pending === 0 || signal.aborted) {
      // Old answers left in place would be scored under this run's name.
      if (ctx.start === 'fresh') await discardEvalOutputs(ctx.outDir);
      return { result: { answered: 0, failed: 0, interrupted: signal.aborted, fleetDown: false }, failedIds: [] };
    }
    const backend = await startBackend(ctx);
    try {
      if (log === null) {
        await startEvalRun(ctx.outDir, ctx.record);
        log = await openPredictionLog(path, ctx.warn);
      }
      return await askFleet(ctx, backend, work, log, accuracy, signal);
    } finally {
      await backend.close();
    }
  } finally {
    await log?.close();
  }
}

/** The context lines at the top of report.html. */
function toReportFacts(ctx: EvalContext): [string, string][] {
  const { opts, config } = ctx;
  const limit = opts.limit === undefined ? '' : `, --limit ${opts.limit}`;
  return [
    ['model', ctx.modelLabel],
    ['manifest', `${ctx.manifestArg} (${ctx.selected} of ${ctx.index.size} samples${limit})`],
    ['answer format', `family ${opts.family} · frame ${opts.frame} · greedy (temperature 0, n = 1) · seed ${opts.seed}`],
    [
      'prompts',
      opts.prompts === undefined
        ? `the project's pool (${INSTRUCTION_POOL.length} instructions)`
        : `${opts.prompts} (${ctx.pool?.length ?? 0} instructions)`,
    ],
    ['scoring', `reward ${config.reward.variant} · τ ${config.reward.tau} · metrics in pixels (docs/method.md §8)`],
    ['written', new Date().toISOString()],
  ];
}

/** Scores what is answered, writes scores.jsonl, metrics.json and report.html, and prints the summary. */
async function reportEval(ctx: EvalContext): Promise<ScoreSummary | null> {
  const { opts, io } = ctx;
  const summary = await writeEvalOutputs({
    outDir: ctx.outDir,
    index: ctx.index,
    selected: ctx.selected,
    settings: ctx.settings,
    manifestArg: ctx.manifestArg,
    predictionsArg: join(opts.out, 'predictions.jsonl'),
    title: `differad eval · ${opts.model ?? CPU_POLICY_MODEL}`,
    facts: toReportFacts(ctx),
    warn: ctx.warn,
  });
  if (summary === null) {
    io.stderr(`no sample answered yet: nothing to score in ${opts.out}\n`);
  } else if (opts.json) {
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const i = summary.input;
    io.stdout(
      `differad eval: ${i.samples} of ${ctx.selected} samples · ${ctx.modelLabel} · family ${opts.family} · frame ${opts.frame} · τ ${summary.tau}\n\n` +
        `${formatMetricTable(summary)}\n\n` +
        `answers: ${i.samples - i.invalid} valid · ${i.invalid} invalid\n` +
        `wrote ${['predictions.jsonl', 'scores.jsonl', 'metrics.json', 'report.html'].map((f) => join(opts.out, f)).join(', ')}\n`,
    );
  }
  return summary;
}

/**
 * Runs `differad eval`; returns the exit code: 0 every sample answered, 130
 * interrupted (what finished is kept and scored). Samples left unanswered
 * throw EVAL_INCOMPLETE (exit 2) after the outputs are written; a rerun
 * retries them.
 */
export async function runEval(opts: EvalOptions, io: CliIo, signal: AbortSignal): Promise<number> {
  const started = performance.now();
  const ctx = await prepareEval(opts, io);
  const outcome = await answerPending(ctx, signal);
  const summary = await reportEval(ctx);
  io.stderr(`eval finished in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const { result, failedIds } = outcome;
  if (result.interrupted) {
    io.stderr(
      `interrupted: ${summary?.input.samples ?? 0} of ${ctx.selected} samples answered and kept; rerun the same command to finish\n`,
    );
    return 130;
  }
  if (failedIds.length > 0 || result.fleetDown) {
    const missing = ctx.selected - (summary?.input.samples ?? 0);
    const ids = `${failedIds.slice(0, 10).join(', ')}${failedIds.length > 10 ? ', …' : ''}`;
    const why = result.fleetDown ? 'every server was ejected; ' : '';
    throw new DifferadError(
      'EVAL_INCOMPLETE',
      `${missing} sample(s) not answered (${why}failed: ${ids}); rerun the same command to retry them`,
    );
  }
  return 0;
}
