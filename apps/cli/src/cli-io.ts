import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';

/** What commands may touch of the process: passed in so tests can run commands in-process. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** stderr is a terminal: progress may redraw one line. */
  readonly interactive: boolean;
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
}

/**
 * The absolute path a path option or argument names: an absolute path as it
 * is, a relative one from the command's working directory. Every path a user
 * gives goes through here, so `--state-dir /abs` never lands under `./abs`.
 */
export function resolvePath(io: Pick<CliIo, 'cwd'>, path: string): string {
  return resolve(io.cwd, path);
}

/** A commander parser for a finite number option that names the flag on error. */
export function parseNumberOption(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} needs a number, got "${value}"`);
    return n;
  };
}

/** A commander parser for a positive integer option. */
export function parseIntegerOption(flag: string, min = 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} needs an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** A commander parser for a TCP port option: an integer 0–65535 (0 lets the system pick a free one). */
export function parsePortOption(flag = '--port'): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65_535)
      throw new InvalidArgumentError(`${flag} needs an integer 0–65535, got "${value}"`);
    return n;
  };
}

/** Resolves with the name of the first SIGINT or SIGTERM, for commands that serve until stopped. */
export function waitForStopSignal(): Promise<string> {
  return new Promise((resolveSignal) => {
    const on = (name: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolveSignal(name);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}
