import { LOG_FORMAT_NAMES, LOG_LEVEL_NAMES, loadLogConfig } from '@differad/config';
import { createLogger, type Logger, resolveLogFormat } from '@differad/log';
import { Option } from 'commander';
import type { CliIo } from './cli-io.js';

/** The log flags of a long-running command. */
export interface LogOptions {
  logLevel?: string;
  logFormat?: string;
}

/** `--log-level` of a command that logs (worker, train, api). */
export function toLogLevelOption(): Option {
  return new Option('--log-level <level>', 'least severe log lines written (DIFFERAD_LOG_LEVEL; default info)').choices(LOG_LEVEL_NAMES);
}

/** `--log-format` of a command that logs. */
export function toLogFormatOption(): Option {
  return new Option(
    '--log-format <format>',
    'log lines on stderr: json, or pretty for people; auto is pretty at a terminal, JSON otherwise (DIFFERAD_LOG_FORMAT; default auto)',
  ).choices(LOG_FORMAT_NAMES);
}

/**
 * The command's logger on stderr: the flags > DIFFERAD_LOG_LEVEL/_FORMAT >
 * info and auto (pretty and coloured when stderr is a terminal, unless
 * NO_COLOR is set; JSON lines into a file, a pipe or a container's log).
 * stdout stays the command's own output (the step table, the API's address).
 */
export function createCliLogger(opts: LogOptions, io: CliIo, name: string): Logger {
  const config = loadLogConfig({ env: io.env, flags: { level: opts.logLevel, format: opts.logFormat } });
  const format = resolveLogFormat(config.format, io.interactive);
  return createLogger({
    level: config.level,
    format,
    name,
    write: (line) => io.stderr(line),
    color: format === 'pretty' && io.interactive && io.env.NO_COLOR === undefined,
  });
}
