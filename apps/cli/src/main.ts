import { Command, CommanderError, Help } from 'commander';
import type { CliIo } from './cli-io.js';
import { HELP_CONFIGURATION } from './help-text.js';

/** A `registerXCommand(program, io)` function of one command module. */
type RegisterCommand = (program: Command, io: CliIo) => void;

/** One top-level command: what `differad --help` lists, and the module that defines it. */
export interface CommandEntry {
  readonly name: string;
  /** The root help's listing: the summary, and `[options]` when the command has options (as commander prints them). */
  readonly summary: string;
  readonly usage: '' | '[options]';
  /** Imports the command's module, loaded only when the command runs or its own help is asked for. */
  readonly load: () => Promise<RegisterCommand>;
}

/**
 * Every top-level command, in help order. Start-up pays only for the module
 * of the command that runs (`differad --help` loads none): the command
 * modules pull in sharp, bullmq, the API server and the orchestrator. The
 * listing here must match what the modules register; help.test.ts checks it.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'score',
    usage: '[options]',
    summary: 'score model answers against ground truth (rewards and metrics)',
    load: async () => (await import('./commands/score.js')).registerScoreCommand,
  },
  {
    name: 'fake-vllm',
    usage: '[options]',
    summary: 'run a fake vLLM server (OpenAI-compatible) for tests, demos and benchmarks',
    load: async () => (await import('./commands/fake-vllm.js')).registerFakeVllmCommand,
  },
  {
    name: 'data',
    usage: '',
    summary: 'import datasets into manifests; validate, summarize, preview and split manifests',
    load: async () => (await import('./commands/data.js')).registerDataCommand,
  },
  {
    name: 'example',
    usage: '[options]',
    summary: 'write a small example dataset and model answers to try the tools on',
    load: async () => (await import('./commands/example.js')).registerExampleCommand,
  },
  {
    name: 'synth',
    usage: '[options]',
    summary: 'make synthetic anomaly pairs from defect-free images (Algorithm 1)',
    load: async () => (await import('./commands/synth.js')).registerSynthCommand,
  },
  {
    name: 'train',
    usage: '[options]',
    summary: 'train with GRPO: rollouts, rewards, resampling, trainer steps, weight sync',
    load: async () => (await import('./commands/train.js')).registerTrainCommand,
  },
  {
    name: 'doctor',
    usage: '[options]',
    summary: 'check a GPU cluster before training: vLLM servers, trainer, log-prob agreement, weight sync',
    load: async () => (await import('./commands/doctor.js')).registerDoctorCommand,
  },
  {
    name: 'worker',
    usage: '[options]',
    summary: 'serve the training queues of every run on a shared Redis',
    load: async () => (await import('./commands/worker.js')).registerWorkerCommand,
  },
  {
    name: 'trainer',
    usage: '',
    summary: 'run a trainer service (trainer HTTP API v1)',
    load: async () => (await import('./commands/trainer.js')).registerTrainerCommand,
  },
  {
    name: 'api',
    usage: '[options]',
    summary: 'serve the REST API and the dashboard',
    load: async () => (await import('./commands/api.js')).registerApiCommand,
  },
  {
    name: 'policy',
    usage: '',
    summary: 'run the built-in CPU policy (an OpenAI-compatible server, no GPU)',
    load: async () => (await import('./commands/policy.js')).registerPolicyCommand,
  },
  {
    name: 'eval',
    usage: '[options]',
    summary: 'evaluate a model (OpenAI-compatible servers or the built-in CPU policy) on a manifest',
    load: async () => (await import('./commands/eval.js')).registerEvalCommand,
  },
  {
    name: 'baseline',
    usage: '[options]',
    summary: 'the non-LLM baseline (docs/method.md §11): threshold the CPU policy’s anomaly map, calibrated on 30% of a manifest',
    load: async () => (await import('./commands/baseline.js')).registerBaselineCommand,
  },
];

/**
 * The top-level command `argv` runs, or its help asks for (`differad help score`);
 * undefined for `differad`, `differad --help` or an unknown name. The root
 * program has no option that takes a value, so the first operand is the command.
 */
export function toInvokedCommand(argv: readonly string[]): string | undefined {
  const operands = argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  return COMMANDS.find((entry) => entry.name === name)?.name;
}

/**
 * Builds the `differad` program. The commands named in `load` are imported and
 * registered in full; the others are listed (name and summary) for the root
 * help and the did-you-mean suggestion, without loading their modules.
 */
export async function createProgram(io: CliIo, load: readonly string[]): Promise<Command> {
  const program = new Command('differad')
    .description('Train and evaluate vision-language models that localize defects by comparing a target image with a reference.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp(HELP_CONFIGURATION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  const registers = await Promise.all(COMMANDS.map((entry) => (load.includes(entry.name) ? entry.load() : undefined)));
  const listed = new Map<Command, string>();
  COMMANDS.forEach((entry, k) => {
    const register = registers[k];
    if (register) register(program, io);
    else listed.set(program.command(entry.name).summary(entry.summary), [entry.name, entry.usage].filter(Boolean).join(' '));
  });
  // A listed-only command has no options of its own, so commander would print its bare name.
  const help = new Help();
  program.configureHelp({ ...HELP_CONFIGURATION, subcommandTerm: (command) => listed.get(command) ?? help.subcommandTerm(command) });
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
  return createProgram(
    io,
    COMMANDS.map((entry) => entry.name),
  );
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
  const invoked = toInvokedCommand(argv);
  const program = await createProgram(
    { ...cliIo, setExitCode: (c) => ((code = c), cliIo.setExitCode(c)) },
    invoked === undefined ? [] : [invoked],
  );
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    // Imported here, not at the top: the error registry loads every package (and zod), which `differad --help` does not need.
    const [{ isDifferadError }, { toExitCode }] = await Promise.all([import('@differad/core'), import('./errors/exit-code.js')]);
    if (isDifferadError(error)) {
      cliIo.stderr(`error [${error.code}]: ${error.message}\n`);
      return toExitCode(error);
    }
    cliIo.stderr(`error: ${(error as Error).stack ?? String(error)}\n`);
    return 2;
  }
}
