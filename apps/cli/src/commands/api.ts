import { join } from 'node:path';
import { startApi, toDefaultTokenFile, type RunningApi } from '@differad/api';
import { loadMetricsConfig } from '@differad/config';
import { DifferadError } from '@differad/core';
import { type Command, Option } from 'commander';
import { type CliIo, parseIntegerOption, parsePortOption, resolvePath, waitForStopSignal } from '../cli-io.js';
import { createCliLogger, type LogOptions, toLogFormatOption, toLogLevelOption } from '../cli-logger.js';
import { helpText } from '../help-text.js';
import { startProcessMetrics } from '../metrics/process-metrics.js';

/** Options of `differad api`. */
export interface ApiCommandOptions extends LogOptions {
  host: string;
  port: number;
  dataRoot: string[];
  runsDir: string;
  stateDir?: string;
  namespace?: string;
  bodyLimit: number;
  externalWorkers?: boolean;
  heartbeatMs: number;
  metricsPort?: number;
  metricsHost?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function describeToken(api: RunningApi): string {
  if (api.token.source === 'env') return 'token from DIFFERAD_API_TOKEN';
  if (api.token.source === 'generated') return `token generated and written to ${api.token.file} (mode 0600)`;
  return `token read from ${api.token.file}`;
}

/** Runs the API until `stop` resolves (SIGINT/SIGTERM in the real process). Prints `differad API listening on URL` once bound. */
export async function runApiCommand(opts: ApiCommandOptions, io: CliIo, stop: Promise<string>): Promise<number> {
  const tokenFile = opts.stateDir === undefined ? toDefaultTokenFile(io.env) : join(resolvePath(io, opts.stateDir), 'api-token');
  // Apart from the API's port, so its /metrics needs no token: keep it private (loopback by default, compose's internal network).
  const served = await startProcessMetrics(loadMetricsConfig({ env: io.env, flags: { port: opts.metricsPort, host: opts.metricsHost } }));
  let api: RunningApi;
  try {
    api = await startApi({
      host: opts.host,
      port: opts.port,
      dataRoots: (opts.dataRoot.length > 0 ? opts.dataRoot : ['data']).map((root) => resolvePath(io, root)),
      runsDir: resolvePath(io, opts.runsDir),
      tokenFile,
      env: io.env,
      cwd: io.cwd,
      // Launched jobs run this same CLI: the Node binary and the entry script this process started from.
      cliCommand: [process.execPath, process.argv[1] ?? 'differad'],
      bodyLimitBytes: opts.bodyLimit,
      externalWorkers: opts.externalWorkers === true,
      stream: { heartbeatMs: opts.heartbeatMs },
      logger: createCliLogger(opts, io, 'api'),
      ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
      ...(served ? { metrics: served.metrics } : {}),
    });
  } catch (cause) {
    await served?.close();
    if (cause instanceof DifferadError) throw cause;
    throw new DifferadError('API_START_FAILED', `cannot start the API on ${opts.host}:${opts.port}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (api.token.warning) io.stderr(`warning: ${api.token.warning}\n`);
  if (!LOOPBACK.has(opts.host))
    io.stderr(
      `warning: the API is bound to ${opts.host}, beyond this machine: put TLS in front of it, the token travels in every request\n`,
    );
  io.stdout(
    `differad API listening on ${api.url} (${describeToken(api)})\n` +
      `  dashboard ${api.url}/dashboard · queues ${api.url}/dashboard/queues · API docs ${api.url}/docs · OpenAPI ${api.url}/openapi.json\n` +
      `  data roots: ${api.dataRoots.join(', ')} · Redis: ${api.redisSource === 'env' ? 'DIFFERAD_REDIS_URL' : `embedded at ${api.redisUrl}`}\n`,
  );
  if (served) io.stdout(`  metrics ${served.url} (no token: keep that port private)\n`);
  const signal = await stop;
  await api.close();
  await served?.close();
  io.stderr(`differad API stopped on ${signal}\n`);
  return 0;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `differad api` on the program. */
export function registerApiCommand(program: Command, io: CliIo): void {
  program
    .command('api')
    .summary('serve the REST API and the dashboard')
    .description(
      'Serves the REST API (training runs, evaluations and synthesis jobs; per-run metrics as JSON and server-sent events; ' +
        'OpenAPI at /openapi.json, docs at /docs) and the dashboard (/dashboard: runs with live charts; /dashboard/queues: bull-board). ' +
        'Every route but /health needs the token: DIFFERAD_API_TOKEN, or one generated at the first start into <state-dir>/api-token ' +
        '(default ~/.config/differad/api-token, mode 0600). Uses DIFFERAD_REDIS_URL, or an embedded redis-server with its AOF under ' +
        '<runs-dir>/.redis. Submitted jobs run as `differad train|eval|synth` child processes. Stops on SIGINT or SIGTERM. ' +
        "Logs (a line per request with method, path, status and duration; each child's start and exit) go to stderr: JSON lines, or readable lines at a terminal.",
    )
    .option('--host <host>', 'address to bind (keep it private unless TLS is in front)', '127.0.0.1')
    .option('--port <port>', 'TCP port; 0 picks a free one (printed)', parsePortOption(), 8080)
    .addOption(
      new Option('--data-root <dir>', 'a folder job bodies may name paths in (repeatable); relative paths start at the first')
        .argParser(collect)
        .default([], './data'),
    )
    .option('--runs-dir <dir>', 'default run.runsDir; evaluation outputs and job logs go below it', 'runs')
    .option('--state-dir <dir>', 'folder of the generated token file (default ~/.config/differad)')
    .option('--namespace <ns>', 'queue namespace of the orchestrator whose queues the dashboard shows')
    .option('--external-workers', 'launched runs get --no-workers: `differad worker` processes serve the queues (compose)')
    .option(
      '--heartbeat-ms <ms>',
      'heartbeat interval of idle metric streams (shorter behind proxies that cut idle connections)',
      parseIntegerOption('--heartbeat-ms', 100),
      15_000,
    )
    .option('--body-limit <bytes>', 'largest request body', parseIntegerOption('--body-limit', 1024), 1024 * 1024)
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at http://metrics-host:port/metrics, without the token (default DIFFERAD_METRICS_PORT; none: no metrics)',
      parsePortOption('--metrics-port'),
    )
    .option('--metrics-host <host>', 'address of the metrics port (default DIFFERAD_METRICS_HOST, else 127.0.0.1)')
    .addOption(toLogLevelOption())
    .addOption(toLogFormatOption())
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad api\n' +
          '  DIFFERAD_API_TOKEN=$(cat token) differad api --port 8080 --data-root data --data-root /mnt/datasets\n' +
          '  curl -s -H "Authorization: Bearer $DIFFERAD_API_TOKEN" localhost:8080/v1/runs\n' +
          '\nExit codes: 0 stopped by a signal; 1 wrong usage; 2 cannot start (port taken, Redis unreachable, bad token).',
      ),
    )
    .action(async (opts: ApiCommandOptions) => {
      io.setExitCode(await runApiCommand(opts, io, waitForStopSignal()));
    });
}
