import { isDifferadError } from '@differad/core';
import { Command, CommanderError } from 'commander';
import { type CliIo, toExitCode } from './cli-io.js';
import { HELP_CONFIGURATION } from './help-text.js';
import { registerExampleCommand } from './commands/example.js';
import { registerScoreCommand } from './commands/score.js';
import { registerFakeVllmCommand } from './commands/fake-vllm.js';
import { registerDataCommand } from './commands/data.js';
import { registerSynthCommand } from './commands/synth.js';
import { registerTrainCommand } from './commands/train.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerTrainerCommand } from './commands/trainer.js';
import { registerApiCommand } from './commands/api.js';
import { registerPolicyCommand } from './commands/policy.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerBaselineCommand } from './commands/baseline.js';

/** Builds the `differad` program with every command registered. */
export function createProgram(io: CliIo): Command {
  const program = new Command('differad')
    .description('Train and evaluate vision-language models that localize defects by comparing a target image with a reference.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp(HELP_CONFIGURATION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  registerScoreCommand(program, io);
  registerFakeVllmCommand(program, io);
  registerDataCommand(program, io);
  registerExampleCommand(program, io);
  registerSynthCommand(program, io);
  registerTrainCommand(program, io);
  registerWorkerCommand(program, io);
  registerTrainerCommand(program, io);
  registerApiCommand(program, io);
  registerPolicyCommand(program, io);
  registerEvalCommand(program, io);
  registerBaselineCommand(program, io);
  // Every command, nested ones too, reports through io and returns instead of exiting.
  const configure = (command: Command): void => {
    command.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/** The program with every command loaded: for walking all the help pages. */
export function createFullProgram(io: CliIo): Promise<Command> {
  return Promise.resolve(createProgram(io));
}

/** Runs the CLI and returns the exit code: 0 done, 1 wrong usage, 2 unusable input or failure. */
export async function main(argv: readonly string[], io?: CliIo): Promise<number> {
  let code = 0;
  const cliIo: CliIo = io ?? {
    env: process.env,
    cwd: process.cwd(),
    interactive: process.stderr.isTTY === true,
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    setExitCode: (c) => {
      code = c;
    },
  };
  const program = createProgram({ ...cliIo, setExitCode: (c) => ((code = c), cliIo.setExitCode(c)) });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (isDifferadError(error)) {
      cliIo.stderr(`error [${error.code}]: ${error.message}\n`);
      return toExitCode(error);
    }
    cliIo.stderr(`error: ${(error as Error).stack ?? String(error)}\n`);
    return 2;
  }
}

export { createPairPool, type PairPool } from './synth/pair-pool.js';
