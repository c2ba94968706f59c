import { DifferadError } from '@differad/core';
import { CPU_POLICY_MODEL, CpuPolicyServer, loadCpuPolicy } from '@differad/cpu-policy';
import type { Command } from 'commander';
import { type CliIo, parseIntegerOption, parsePortOption, resolvePath, waitForStopSignal } from '../cli-io.js';
import { helpText } from '../help-text.js';

/** Options of `differad policy serve`. */
export interface PolicyServeOptions {
  host: string;
  port: number;
  slots: number;
  policy?: string;
  seed: number;
}

/**
 * Runs the built-in CPU policy server until `stop` resolves (SIGINT/SIGTERM
 * in the real process). Prints `CPU policy listening on URL …` once bound.
 */
export async function runPolicyServe(opts: PolicyServeOptions, io: CliIo, stop: Promise<string>): Promise<number> {
  const policy = opts.policy ? await loadCpuPolicy(resolvePath(io, opts.policy)) : undefined;
  let server: CpuPolicyServer;
  try {
    server = await CpuPolicyServer.start({ host: opts.host, port: opts.port, slots: opts.slots, seed: opts.seed, policy });
  } catch (cause) {
    throw new DifferadError('POLICY_LISTEN_FAILED', `cannot listen on ${opts.host}:${opts.port}: ${(cause as Error).message}`, { cause });
  }
  const p = server.currentPolicy;
  const params = Object.entries(p.params)
    .map(([name, g]) => `${name} ${g.mean}`)
    .join(', ');
  io.stdout(`CPU policy listening on ${server.url} (model ${CPU_POLICY_MODEL}, policy v${p.version}: ${params} · ${opts.slots} slots)\n`);
  const signal = await stop;
  await server.close();
  io.stderr(`CPU policy stopped on ${signal} (weight version ${server.currentPolicy.version})\n`);
  return 0;
}

/** Registers `differad policy serve` on the program. */
export function registerPolicyCommand(program: Command, io: CliIo): void {
  const policy = program.command('policy').summary('run the built-in CPU policy (an OpenAI-compatible server, no GPU)');
  policy
    .command('serve')
    .summary('serve the built-in CPU policy behind the OpenAI-compatible API')
    .description(
      `Serves model "${CPU_POLICY_MODEL}": a reference-difference detector (align, difference map, blur, threshold, ` +
        'largest component → box) whose threshold, blur and minimum area are sampled per completion from a Gaussian ' +
        'policy and written in <think>; temperature 0 uses the means. Answers <think>…</think><answer>(x1,y1),(x2,y2)</answer> ' +
        'in norm1000 on /v1/chat/completions (two images: reference, target), with /v1/models, /health, ' +
        '/metrics, the vLLM pause / update_weights {"update_info":{"path":FILE}} / resume calls, and ' +
        'POST /v1/anomaly_map {reference, target} for map → box baselines. Stops on SIGINT or SIGTERM.',
    )
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'TCP port; 0 picks a free one (printed)', parsePortOption(), 8100)
    .option('--slots <n>', 'requests answered at once', parseIntegerOption('--slots'), 2)
    .option('--policy <file>', 'starting policy: a CPU policy JSON file {"version","params":{name:{mean,logStd,min,max}}}')
    .option('--seed <seed>', 'seed of requests that carry none', parseIntegerOption('--seed', 0), 0)
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad policy serve\n' +
          '  differad policy serve --port 0 --slots 4 --policy runs/demo/trainer/weights/policy-v12.json\n' +
          '  differad eval --manifest data/deeppcb/manifest.jsonl --out eval/cpu --endpoint http://127.0.0.1:8100 --model differad-cpu\n' +
          '\nExit codes: 0 stopped by a signal; 1 wrong usage; 2 cannot listen or invalid --policy file.',
      ),
    )
    .action(async (opts: PolicyServeOptions) => {
      io.setExitCode(await runPolicyServe(opts, io, waitForStopSignal()));
    });
}
