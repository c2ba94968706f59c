import { pino } from 'pino';
import { toPlainLine, toPrettyLine } from './format-line.js';

/** pino's levels, quietest last; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * How lines are written: `json` one JSON object a line (for files, pipes and
 * log shippers), `pretty` a coloured `time LEVEL message key=value` line for
 * a person at a terminal, `plain` the bare message (`warning: `/`error: `
 * before warnings and errors): the line format of callers that only take a
 * `log(line)` function.
 */
export type LogFormat = 'json' | 'pretty' | 'plain';

/** One logging call: a message, or fields then a message. */
export interface LogFn {
  (msg: string): void;
  (fields: object, msg: string): void;
}

/**
 * What differad code logs through: pino's calls, so the composition root may
 * pass a pino logger itself. Fields of one line: `run`, `step`, `job`,
 * `queue`, `slot` (the pair's place in its step), `code` (a DifferadError's),
 * `err`, `duration_ms`; a child logger binds some of them for every line.
 */
export interface Logger {
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where each line goes (with its newline): a CLI's stderr, a test's array. */
  readonly write: (line: string) => void;
  /** The process's role, `name` in every JSON line (`worker`, `train`, `api`). */
  readonly name?: string;
  /** ANSI colours in `pretty` lines. */
  readonly color?: boolean;
}

/**
 * A pino logger writing to `write` in `format`. JSON lines carry `level` as
 * its label, `time` as ISO 8601, `pid`, `hostname`, `name` and `msg`; errors
 * under `err` go through pino's error serializer (type, message, stack,
 * code). Everything is written synchronously in this thread: no transport.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { write, format } = options;
  const color = options.color ?? false;
  const destination = {
    write(json: string): void {
      if (format === 'json') write(json);
      else
        write(
          `${format === 'pretty' ? toPrettyLine(JSON.parse(json) as Record<string, unknown>, color) : toPlainLine(JSON.parse(json) as Record<string, unknown>)}\n`,
        );
    },
  };
  return pino(
    {
      level: options.level,
      ...(options.name === undefined ? {} : { name: options.name }),
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** The format for `auto`: pretty when the log stream is a terminal, JSON lines otherwise (a file, a pipe, a container's log). */
export function resolveLogFormat(format: 'auto' | 'json' | 'pretty', isTerminal: boolean): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return isTerminal ? 'pretty' : 'json';
}

/** A logger in `plain` format over a `log(line)` function: for callers (and tests) that pass only that. */
export function createLineLogger(log: (line: string) => void, level: LogLevel = 'info'): Logger {
  return createLogger({ level, format: 'plain', write: (line) => log(line.endsWith('\n') ? line.slice(0, -1) : line) });
}

/**
 * A `log(line)` function over `logger`, for code that writes diagnostic
 * lines as text: `warning: …` and `error: …` lines at their level, the
 * prefix dropped (a plain-format logger puts it back), any other at info.
 */
export function toLineSink(logger: Logger): (line: string) => void {
  return (line) => {
    if (line.startsWith('warning: ')) logger.warn(line.slice('warning: '.length));
    else if (line.startsWith('error: ')) logger.error(line.slice('error: '.length));
    else logger.info(line);
  };
}
