import { readFile } from 'node:fs/promises';
import { DEFAULT_CPU_POLICY, DifferadError, type GaussianPolicy, GaussianPolicySchema } from '@differad/core';
import { createCpuTrainer } from '@differad/cpu-trainer';
import type { Command } from 'commander';
import { z } from 'zod';
import { type CliIo, parsePortOption, resolvePath, waitForStopSignal } from '../cli-io.js';
import { helpText } from '../help-text.js';

/** Options of `differad trainer serve`. */
export interface TrainerServeOptions {
  cpu?: boolean;
  host: string;
  port: number;
  stateDir: string;
  init?: string;
}

/** Reads a GaussianPolicy JSON file; TRAINER_INIT_INVALID says what is wrong with it. */
async function loadInitialPolicy(file: string): Promise<GaussianPolicy> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new DifferadError('TRAINER_INIT_INVALID', `cannot read the initial policy ${file}: ${(cause as Error).message}`, { cause });
  }
  const parsed = GaussianPolicySchema.safeParse(json);
  if (!parsed.success)
    throw new DifferadError('TRAINER_INIT_INVALID', `${file} is not a CPU policy file:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Runs the built-in CPU trainer until `stop` resolves (SIGINT/SIGTERM in the
 * real process). Prints `CPU trainer listening on URL …` once bound.
 */
export async function runTrainerServe(opts: TrainerServeOptions, io: CliIo, stop: Promise<string>): Promise<number> {
  const stateDir = resolvePath(io, opts.stateDir);
  const initialPolicy = opts.init ? await loadInitialPolicy(resolvePath(io, opts.init)) : undefined;
  const trainer = createCpuTrainer({ host: opts.host, port: opts.port, stateDir, initialPolicy });
  let url: string;
  try {
    ({ url } = await trainer.start());
  } catch (cause) {
    throw new DifferadError('TRAINER_LISTEN_FAILED', `cannot listen on ${opts.host}:${opts.port}: ${(cause as Error).message}`, { cause });
  }
  if (!LOOPBACK.has(opts.host)) {
    io.stderr(
      `warning: the trainer API writes files under ${stateDir} and has no authentication; ${opts.host} exposes it beyond this machine\n`,
    );
  }
  const start = trainer.stats();
  const names = Object.keys((initialPolicy ?? DEFAULT_CPU_POLICY).params).join(', ');
  io.stdout(`CPU trainer listening on ${url} (policy v${start.weightVersion}: ${names} · state in ${stateDir})\n`);
  const signal = await stop;
  await trainer.close();
  const end = trainer.stats();
  io.stderr(`CPU trainer stopped on ${signal} after ${end.optimSteps} optimizer step(s) (weight version ${end.weightVersion})\n`);
  return 0;
}

/** Registers `differad trainer serve` on the program. */
export function registerTrainerCommand(program: Command, io: CliIo): void {
  const trainer = program.command('trainer').summary('run a trainer service (trainer HTTP API v1)');
  trainer
    .command('serve')
    .summary('serve the trainer HTTP API (the built-in CPU trainer with --cpu)')
    .description(
      'Serves trainer API v1 (docs/trainer-api.json): /v1/health, /v1/forward_backward, /v1/optim_step, ' +
        '/v1/checkpoints, /v1/checkpoints/load, /v1/weights/send and /metrics. With --cpu it trains the built-in ' +
        "CPU policy (a Gaussian over the reference-difference detector's parameters) with the GRPO loss of " +
        'docs/method.md §6 and Adam; checkpoints and weight files are JSON under --state-dir. The GPU trainer is the ' +
        'Python service in docker/trainer. Stops on SIGINT or SIGTERM.',
    )
    .option('--cpu', 'use the built-in CPU trainer (required: the only backend built in)')
    .option('--host <host>', 'address to bind (keep it private: the API writes files)', '127.0.0.1')
    .option('--port <port>', 'TCP port; 0 picks a free one (printed)', parsePortOption(), 8200)
    .option('--state-dir <dir>', 'checkpoints/ and weights/ are written here', '.differad/cpu-trainer')
    .option('--init <file>', 'starting policy: a CPU policy JSON file {"version","params":{name:{mean,logStd,min,max}}}')
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad trainer serve --cpu\n' +
          '  differad trainer serve --cpu --port 0 --state-dir runs/demo/trainer --init policy.json\n' +
          '  curl -s localhost:8200/v1/health\n' +
          '\nExit codes: 0 stopped by a signal; 1 wrong usage; 2 cannot listen or invalid --init file.',
      ),
    )
    .action(async (opts: TrainerServeOptions, command: Command) => {
      if (!opts.cpu) {
        command.error('error: only the CPU trainer is built in: pass --cpu (the GPU trainer runs from docker/trainer)', {
          exitCode: 1,
          code: 'differad.trainer.backend',
        });
      }
      io.setExitCode(await runTrainerServe(opts, io, waitForStopSignal()));
    });
}
