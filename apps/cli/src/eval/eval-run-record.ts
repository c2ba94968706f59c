import { createHash } from 'node:crypto';
import { type Frame, INSTRUCTION_POOL, type ModelFamily, type ResizeOptions, toSystemPrompt } from '@differad/core';
import { toEvalSampling } from '@differad/orchestrator';
import { z } from 'zod';

/** The record of what produced the answers in an output folder, next to them. */
export const EVAL_RUN_FILE = 'eval-run.json';

/**
 * Every file `differad eval` writes under --out, the answers first: `--force`
 * removes exactly these, in this order, so a start cut short never leaves old
 * answers next to a new record.
 */
export const EVAL_OUTPUT_FILES = ['predictions.jsonl', 'scores.jsonl', 'metrics.json', 'report.html', EVAL_RUN_FILE] as const;

/** One recorded setting: flat and scalar, so two records compare key by key and print as `key: old → new`. */
export type EvalRunValue = string | number | boolean | null;

/**
 * `eval-run.json`. `settings` holds everything that changes an answer and must
 * match for a rerun to resume; `context` says how the run was made without
 * deciding anything (more servers or another concurrency ask the same).
 */
export const EvalRunRecordSchema = z.object({
  format: z.literal(1),
  created: z.string(),
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  context: z.record(z.string(), z.unknown()).default({}),
});
export type EvalRunRecord = z.infer<typeof EvalRunRecordSchema>;

/** What the answer-changing settings are computed from. */
export interface EvalRunInput {
  readonly backend: 'endpoint' | 'policy cpu';
  readonly model: string;
  readonly family: ModelFamily;
  readonly frame: Frame;
  /** Absolute: images are resolved next to it. */
  readonly manifestPath: string;
  readonly manifestSha256: string;
  /** The `--prompts` pool, or undefined for the project's own. */
  readonly pool: readonly string[] | undefined;
  readonly seed: number;
  readonly maxTokens: number;
  readonly resize: ResizeOptions;
  /** sha256 of the CPU policy file served (--run, --policy-file); absent for --endpoint and the default CPU policy. */
  readonly policySha256?: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The settings a resume must share (docs/method.md §7: the request of a pair is fixed
 * by these). --limit is left out on purpose: it picks which ids are asked, not
 * what an id is answered, so a run may be widened by a rerun.
 */
export function toEvalRunSettings(input: EvalRunInput): Record<string, EvalRunValue> {
  const sampling = toEvalSampling(input.maxTokens);
  // `pixels` sends images at their own size: the resize changes nothing there.
  const resize = input.frame === 'pixels' ? null : input.resize;
  return {
    backend: input.backend,
    model: input.model,
    family: input.family,
    frame: input.frame,
    manifest: input.manifestPath,
    manifest_sha256: input.manifestSha256,
    prompts_sha256: sha256(JSON.stringify(input.pool ?? INSTRUCTION_POOL)),
    // The system instruction at a stand-in size: its wording, the family's box notation and the frame rule.
    system_prompt_sha256: sha256(toSystemPrompt(input.family, input.frame, { width: 1000, height: 1000 })),
    seed: input.seed,
    n: 1,
    temperature: sampling.temperature,
    top_p: sampling.topP,
    top_k: sampling.topK,
    max_tokens: sampling.maxTokens,
    resize_factor: resize?.factor ?? null,
    resize_min_pixels: resize?.minPixels ?? null,
    resize_max_pixels: resize?.maxPixels ?? null,
    // Only when a policy file is served: records of other runs stay comparable key for key.
    ...(input.policySha256 === undefined ? {} : { policy_sha256: input.policySha256 }),
  };
}

/** One setting that differs between the folder's record and this run; undefined: not in that record. */
export interface EvalSettingDifference {
  readonly key: string;
  readonly recorded: EvalRunValue | undefined;
  readonly current: EvalRunValue | undefined;
}

/** The settings that differ, in the order of the current ones, then those only the old record has. */
export function compareEvalRunSettings(
  recorded: Readonly<Record<string, EvalRunValue>>,
  current: Readonly<Record<string, EvalRunValue>>,
): EvalSettingDifference[] {
  const keys = [...new Set([...Object.keys(current), ...Object.keys(recorded)])];
  return keys.filter((key) => recorded[key] !== current[key]).map((key) => ({ key, recorded: recorded[key], current: current[key] }));
}

/** What the output folder held when the run started. */
export interface EvalFolderState {
  /** The record, none, or why it could not be read. */
  readonly record:
    | { readonly kind: 'none' }
    | { readonly kind: 'unreadable'; readonly reason: string }
    | { readonly kind: 'found'; readonly record: EvalRunRecord };
  /** predictions.jsonl holds at least one whole line. */
  readonly hasAnswers: boolean;
}

/** How a run starts in its folder. */
export type EvalStart =
  | { readonly kind: 'resume' }
  /** Ask everything; eval's old files go before the first request. */
  | { readonly kind: 'fresh' }
  | { readonly kind: 'mismatch'; readonly differences: readonly EvalSettingDifference[] }
  | { readonly kind: 'unrecorded'; readonly reason: string };

/**
 * Resumes only what the same settings answered: a folder without answers, or
 * `force`, starts fresh; answers with an identical record resume; answers with
 * another record, or with none (an older differad), are refused.
 */
export function decideEvalStart(state: EvalFolderState, current: Readonly<Record<string, EvalRunValue>>, force: boolean): EvalStart {
  if (force || !state.hasAnswers) return { kind: 'fresh' };
  const { record } = state;
  if (record.kind === 'none')
    return {
      kind: 'unrecorded',
      reason: `there is no ${EVAL_RUN_FILE} saying which model and settings produced them (written by an older differad, or removed)`,
    };
  if (record.kind === 'unreadable') return { kind: 'unrecorded', reason: `${EVAL_RUN_FILE} cannot be used: ${record.reason}` };
  const differences = compareEvalRunSettings(record.record.settings, current);
  return differences.length === 0 ? { kind: 'resume' } : { kind: 'mismatch', differences };
}

const show = (value: EvalRunValue | undefined) => (value === undefined ? '(not recorded)' : JSON.stringify(value));

/** The message of a refused start: each differing setting as `key: old → new`, and the two ways on. */
export function formatEvalStartRefusal(start: Extract<EvalStart, { kind: 'mismatch' | 'unrecorded' }>, outDir: string): string {
  const way = `use a new --out, or --force to remove eval's files there (${EVAL_OUTPUT_FILES.join(', ')}) and start afresh`;
  if (start.kind === 'unrecorded')
    return `${outDir} holds answers (predictions.jsonl) but ${start.reason}, so they are not resumed; ${way}`;
  const lines = start.differences.map((d) => `  ${d.key}: ${show(d.recorded)} → ${show(d.current)}`);
  return `${outDir} holds answers made with other settings than this run's, so they are not resumed:\n${lines.join('\n')}\n${way}`;
}
