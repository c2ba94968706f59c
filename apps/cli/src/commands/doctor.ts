import { loadConfig, TrainConfigSchema } from '@differad/config';
import type { Command } from 'commander';
import { type CliIo, parseIntegerOption, resolvePath } from '../cli-io.js';
import { formatDoctorTable, toDoctorJson } from '../doctor/doctor-report.js';
import { AGREEMENT_TEMPERATURE, AGREEMENT_TOLERANCE_NATS, toDoctorExitCode } from '../doctor/doctor-verdicts.js';
import { runDoctor } from '../doctor/run-doctor.js';
import { helpText } from '../help-text.js';

export interface DoctorCommandOptions {
  config: string;
  json?: boolean;
  sync: boolean;
  timeoutMs: number;
}

/** Runs `differad doctor`; returns the exit code (0 every check passed, 2 one failed). */
export async function runDoctorCommand(opts: DoctorCommandOptions, io: CliIo): Promise<number> {
  const config = loadConfig({ env: io.env, file: resolvePath(io, opts.config) }, TrainConfigSchema);
  const checks = await runDoctor(config, { timeoutMs: opts.timeoutMs, sync: opts.sync });
  io.stdout(opts.json ? `${JSON.stringify(toDoctorJson(checks), null, 2)}\n` : formatDoctorTable(checks));
  return toDoctorExitCode(checks);
}

/** Registers `differad doctor` on the program. */
export function registerDoctorCommand(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .summary('check a GPU cluster before training: vLLM servers, trainer, log-prob agreement, weight sync')
    .description(
      'Checks the inference servers and the trainer a training config names, the first thing to run on a new cluster. ' +
        `Per vLLM server: reachable, version (/version), serves policy.model, dev mode (VLLM_SERVER_DEV_MODE=1), world size (TP × PP × DP), ` +
        '--logprobs-mode processed_logprobs and the weight-transfer backend policy.syncBackend needs (both from /server_info). ' +
        'The trainer: health, and the same model. ' +
        `Per server, one completion at temperature ${AGREEMENT_TEMPERATURE} of a small generated pair, scored by the trainer (POST /v1/score_tokens): ` +
        `mean |log π_trainer − log π_vLLM| per token at most ${AGREEMENT_TOLERANCE_NATS} nats. ` +
        "Last, one weight sync of the trainer's current version with the configured backend, which every server's /weight_info must then name. " +
        'Every failure prints its fix.',
    )
    .requiredOption('--config <file>', 'training config (YAML or JSON): policy.kind endpoints and trainer.kind url')
    .option('--json', 'print the checks as one JSON object instead of a table')
    .option('--no-sync', "skip the weight-sync round trip (it pauses the servers and loads the trainer's current weights)")
    .option('--timeout-ms <ms>', 'deadline of each probe', parseIntegerOption('--timeout-ms'), 10_000)
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad doctor --config run.yaml\n' +
          '  differad doctor --config run.yaml --json --no-sync\n' +
          '\nExit codes: 0 every check passed; 1 wrong usage; 2 a check failed, or the config is unusable.',
      ),
    )
    .action(async (opts: DoctorCommandOptions) => {
      io.setExitCode(await runDoctorCommand(opts, io));
    });
}
