import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainConfig } from '@differad/config';
import { BEFORE_TRAINING_STEP, computeRunSummary, type MetricReport, type RunSummary, type StepMetricsRow } from '@differad/core';
import { loadRunRows, locateRunPolicy, RUN_FILES } from './run-folder.js';

const reportName = (step: number) => (step === BEFORE_TRAINING_STEP ? 'before.json' : `step-${step}.json`);

/** Keeps one held-out evaluation's whole report (per class, per subset, both class means) as `held-out/<before|step-S>.json`. */
export async function writeHeldOutReport(runDir: string, step: number, report: MetricReport): Promise<void> {
  const dir = join(runDir, RUN_FILES.heldOut);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, reportName(step)), `${JSON.stringify({ step, ...report }, null, 2)}\n`);
}

/** The kept reports by step (an unreadable one is left out: the summary then has no per-class figures for it). */
async function loadHeldOutReports(runDir: string): Promise<Map<number, MetricReport>> {
  const dir = join(runDir, RUN_FILES.heldOut);
  const names = await readdir(dir).catch(() => [] as string[]);
  const reports = new Map<number, MetricReport>();
  for (const name of names) {
    const step = name === 'before.json' ? BEFORE_TRAINING_STEP : Number(/^step-(\d+)\.json$/.exec(name)?.[1] ?? Number.NaN);
    if (Number.isNaN(step)) continue;
    const report = await readFile(join(dir, name), 'utf8')
      .then((t) => JSON.parse(t) as MetricReport)
      .catch(() => null);
    if (report !== null) reports.set(step, report);
  }
  return reports;
}

/**
 * Computes a run's summary from its folder (metrics.jsonl, baseline-eval.json,
 * the held-out reports, the final CPU policy) and writes it to `summary.json`
 * (docs/architecture.md §4.6). metrics.jsonl holds every completed step, those
 * of earlier processes of a resumed run included.
 */
export async function writeRunSummary(runDir: string, runId: string, state: string, config: TrainConfig): Promise<RunSummary> {
  const [rows, before, reports, policy] = await Promise.all([
    loadRunRows(runDir),
    readFile(join(runDir, RUN_FILES.baseline), 'utf8')
      .then((t) => JSON.parse(t) as StepMetricsRow)
      .catch(() => null),
    loadHeldOutReports(runDir),
    locateRunPolicy(runDir, config),
  ]);
  const summary = computeRunSummary({
    runId,
    state,
    tau: config.reward.tau,
    rows,
    before,
    reports,
    finalPolicy: policy.kind === 'cpu' ? { path: policy.path, weight_version: policy.weightVersion } : null,
  });
  await writeFile(join(runDir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
