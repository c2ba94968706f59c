import { DifferadError } from '@differad/core';
import { ANSWER_POLICIES, type AnswerPolicyName, type FakeVllmSettings, FakeVllmSettingsSchema, startFakeVllm } from '@differad/testing';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CliIo, parseIntegerOption, parseNumberOption, parsePortOption, waitForStopSignal } from '../cli-io.js';
import { helpText } from '../help-text.js';

export interface FakeVllmCliOptions {
  port: number;
  host: string;
  model: string;
  slots: number;
  tokensPerSecond: number;
  prefillMs: number;
  policy: Exclude<AnswerPolicyName, 'exact'>;
  text?: string;
  seed: string;
  errorRate: number;
  hangRate: number;
  dieRate: number;
  garbageRate: number;
  slowFactor: number;
}

/** The flag of each settings field, so that a wrong value is reported as the flag the user typed. */
const FLAG_OF: Readonly<Record<string, string>> = {
  host: '--host',
  port: '--port',
  model: '--model',
  slots: '--slots',
  tokensPerSecond: '--tokens-per-second',
  prefillMsPerImage: '--prefill-ms',
  policy: '--policy',
  constantText: '--text',
  seed: '--seed',
  'faults.errorRate': '--error-rate',
  'faults.hangRate': '--hang-rate',
  'faults.dieRate': '--die-rate',
  'faults.garbageRate': '--garbage-rate',
  'faults.slowFactor': '--slow-factor',
};

/** The server settings the flags ask for, or what is wrong with them (every value comes from a flag: wrong usage). */
export function parseFakeVllmOptions(
  opts: FakeVllmCliOptions,
): { kind: 'valid'; settings: FakeVllmSettings } | { kind: 'invalid'; reason: string } {
  const settings = FakeVllmSettingsSchema.safeParse({
    host: opts.host,
    port: opts.port,
    model: opts.model,
    slots: opts.slots,
    tokensPerSecond: opts.tokensPerSecond,
    prefillMsPerImage: opts.prefillMs,
    policy: opts.policy,
    constantText: opts.text,
    seed: opts.seed,
    faults: {
      errorRate: opts.errorRate,
      hangRate: opts.hangRate,
      dieRate: opts.dieRate,
      garbageRate: opts.garbageRate,
      slowFactor: opts.slowFactor,
    },
  });
  if (settings.success) return { kind: 'valid', settings: settings.data };
  const problems = settings.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${FLAG_OF[path] ?? path}: ${issue.message}`;
  });
  return { kind: 'invalid', reason: problems.join('; ') };
}

/**
 * Runs `differad fake-vllm` until `stop` resolves (SIGINT/SIGTERM in the real
 * process). Prints `fake vLLM listening on URL …` once bound.
 */
export async function runFakeVllm(settings: FakeVllmSettings, io: CliIo, stop: Promise<string>): Promise<number> {
  const { host, port } = settings;
  let server;
  try {
    server = await startFakeVllm(settings);
  } catch (cause) {
    throw new DifferadError('FAKE_VLLM_LISTEN_FAILED', `cannot listen on ${host}:${port}: ${(cause as Error).message}`, { cause });
  }
  const s = settings;
  io.stdout(
    `fake vLLM listening on ${server.url} (model ${s.model}, ${s.slots} slots × ${s.tokensPerSecond} tokens/s, policy ${s.policy})\n`,
  );
  const signal = await stop;
  await server.close();
  const st = server.stats();
  io.stderr(
    `fake vLLM stopped on ${signal}; requests: ${st.received} received, ${st.completed} completed, ${st.errors} failed on purpose\n`,
  );
  return 0;
}

const rate = (flag: string) => (value: string) => {
  const n = parseNumberOption(flag)(value);
  if (n < 0 || n > 1) throw new InvalidArgumentError(`${flag} needs a probability in [0, 1], got "${value}"`);
  return n;
};

/** Registers `differad fake-vllm` on the program. */
export function registerFakeVllmCommand(program: Command, io: CliIo): void {
  program
    .command('fake-vllm')
    .summary('run a fake vLLM server (OpenAI-compatible) for tests, demos and benchmarks')
    .description(
      'Serves /v1/chat/completions, /v1/models, /health, /metrics and the vLLM pause/resume and weight-transfer ' +
        'endpoints without a GPU. Answers are scripted (noisy boxes, a constant text or garbage) in the differad ' +
        'format, deterministic per request seed; latency follows a capacity model (slots, decode rate, prefill per ' +
        'image); faults can be injected. Stops on SIGINT or SIGTERM.',
    )
    .option('--port <port>', 'TCP port; 0 picks a free one (printed)', parsePortOption(), 8000)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--model <name>', 'served model name', 'differad-fake')
    .option('--slots <n>', 'sequences decoded at once', parseIntegerOption('--slots'), 8)
    .option('--tokens-per-second <r>', 'decode rate of one sequence', parseNumberOption('--tokens-per-second'), 200)
    .option('--prefill-ms <ms>', 'prefill cost per image, ms', parseNumberOption('--prefill-ms'), 5)
    .addOption(new Option('--policy <name>', 'answer policy').choices(ANSWER_POLICIES.filter((p) => p !== 'exact')).default('noisy'))
    .option('--text <text>', 'the answer of --policy constant')
    .option('--seed <seed>', 'seed of fault draws and of requests without a seed', '0')
    .option('--error-rate <p>', 'share of requests answered with HTTP 500', rate('--error-rate'), 0)
    .option('--hang-rate <p>', 'share of requests never answered', rate('--hang-rate'), 0)
    .option('--die-rate <p>', 'share of requests whose connection is dropped midway', rate('--die-rate'), 0)
    .option('--garbage-rate <p>', 'share of completions replaced by garbage text', rate('--garbage-rate'), 0)
    .option('--slow-factor <x>', 'multiplies every service time', parseNumberOption('--slow-factor'), 1)
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad fake-vllm --port 8000\n' +
          '  differad fake-vllm --port 0 --slots 16 --tokens-per-second 400 --policy constant --error-rate 0.05\n' +
          '  curl -s localhost:8000/metrics | grep vllm:num_requests\n' +
          '\nExit codes: 0 stopped by a signal; 1 wrong usage (a bad flag value included); 2 cannot listen.',
      ),
    )
    .action(async (opts: FakeVllmCliOptions, command: Command) => {
      const parsed = parseFakeVllmOptions(opts);
      if (parsed.kind === 'invalid') return command.error(`error: ${parsed.reason}`, { exitCode: 1, code: 'differad.fake-vllm.options' });
      io.setExitCode(await runFakeVllm(parsed.settings, io, waitForStopSignal()));
    });
}
