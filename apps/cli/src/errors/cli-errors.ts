import type { ErrorSpec } from '@differad/core';

const fails = (summary: string) => ({ status: null, retryable: false, summary }) as const;
/** A flag value found wrong only once the command ran: wrong usage, exit 1. */
const usage = (summary: string) => ({ status: null, retryable: false, exit: 1, summary }) as const;

/** The error codes the `differad` commands throw themselves (the packages they run throw their own). */
export const CLI_ERRORS = {
  OUTPUT_READ_FAILED: fails("A file in a command's output folder (an evaluation's record, predictions or scores) cannot be read."),
  MANIFEST_CHANGED: fails('A manifest changed while a command was reading it twice (scoring, resuming an evaluation); run it again.'),
  PREDICTIONS_UNUSABLE: fails('A predictions file has no usable prediction for any id of the manifest.'),
  PREVIEW_EMPTY: fails('No record of the manifest matches the classes a preview asks for.'),
  SPLIT_GROUP_MISSING: fails('A record has no value for the --group-by field of a split.'),
  SPLIT_PART_EMPTY: fails('A split would leave the held-out or test part (or the rest) empty.'),
  SPLIT_SIZE_INVALID: usage('A --heldout or --test count is more than the records of the manifest.'),
  SYNTH_INPUT_INVALID: fails(
    'A synth input folder does not exist or holds no images, or a synth option (such as --max-rotation) is out of range.',
  ),
  SYNTH_WORKER_FAILED: fails('A synthesis worker thread failed, or failed on a pair with an error that carries no registered code.'),
  EVAL_OPTIONS_INVALID: usage(
    'An evaluation flag is wrong: no --endpoint URL, one that is not http(s), or no --manifest where the run has no held-out one.',
  ),
  EVAL_ENDPOINT_UNREACHABLE: fails('No evaluation endpoint answered GET /v1/models.'),
  EVAL_MODEL_NOT_SERVED: fails('No reachable endpoint serves the --model asked for.'),
  EVAL_RUN_UNKNOWN: fails('--run names no run folder with a readable run config.'),
  EVAL_RUN_UNTRAINED: fails('The run has no trained policy to evaluate yet.'),
  EVAL_RUN_NOT_CPU: fails(
    'The run was trained by a trainer differad did not start, so its weights are not in the run folder; evaluate it with --endpoint.',
  ),
  EVAL_OUTPUT_MISMATCH: fails('The output folder holds answers of an evaluation with other settings; `details.differences` names them.'),
  EVAL_OUTPUT_UNRECORDED: fails('The output folder holds answers without a usable record of their settings.'),
  EVAL_INCOMPLETE: fails('Some samples were not answered; running the same command again retries them.'),
  TRAINER_INIT_INVALID: fails("`differad trainer serve --cpu`'s initial policy file cannot be read or is not a CPU policy."),
  TRAINER_LISTEN_FAILED: fails('The CPU trainer cannot listen on its host and port.'),
  POLICY_LISTEN_FAILED: fails('The CPU policy server cannot listen on its host and port.'),
  FAKE_VLLM_LISTEN_FAILED: fails('The fake vLLM server cannot listen on its host and port.'),
  API_START_FAILED: fails('`differad api` cannot start the API (the port is taken, Redis is unreachable, …).'),
  METRICS_LISTEN_FAILED: fails(
    'A `--metrics-port` (or DIFFERAD_METRICS_PORT) cannot be served: the port is taken or the host is not an address of this machine.',
  ),
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly cli: typeof CLI_ERRORS;
  }
}
