import { type ChildProcess, spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';

/** A child process this API started, with its log file. */
export interface TrackedChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set before a deliberate stop, so the exit handler knows the exit was asked for. */
  stopRequested: boolean;
}

/** Options of {@link spawnLogged}. */
export interface SpawnLoggedOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout and stderr both go here (appended). */
  readonly logFile: string;
}

/** Starts `command[0] …command[1..] …args` with its output in a log file; resolves once it is running. */
export async function spawnLogged(command: readonly string[], args: readonly string[], options: SpawnLoggedOptions): Promise<TrackedChild> {
  const [file, ...fixed] = command;
  if (file === undefined) throw new RangeError('empty command');
  const log = await open(options.logFile, 'a', 0o600);
  try {
    const child = spawn(file, [...fixed, ...args], { cwd: options.cwd, env: { ...options.env }, stdio: ['ignore', log.fd, log.fd] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    await new Promise<void>((resolve, reject) => {
      const onSpawn = (): void => {
        child.off('error', onError);
        resolve();
      };
      const onError = (error: Error): void => {
        child.off('spawn', onSpawn);
        reject(error);
      };
      child.once('spawn', onSpawn).once('error', onError);
    });
    // Later errors (a failed kill of an exited process) are not failures of the job.
    child.on('error', () => undefined);
    return { child, pid: child.pid ?? -1, logFile: options.logFile, exited, stopRequested: false };
  } finally {
    await log.close();
  }
}

/**
 * Stops a child we started (by its own PID only): SIGTERM, then SIGKILL after
 * `graceMs`; resolves once it has exited.
 */
export async function stopChild(tracked: TrackedChild, graceMs: number): Promise<void> {
  tracked.stopRequested = true;
  const { child } = tracked;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  child.kill('SIGTERM');
  try {
    await tracked.exited;
  } finally {
    clearTimeout(force);
  }
}

/**
 * What a failed child said last, for an error message: from its last
 * `error [CODE]: …` line to the end (the CLI's error report), else its last
 * non-empty line; at most the last 4 KiB of the log are read, 600 characters kept.
 */
export async function readLastLogLine(file: string): Promise<string> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).slice(-4096);
  } catch {
    return '';
  }
  const at = text.lastIndexOf('error [');
  if (at >= 0)
    return text
      .slice(at)
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .join(' / ')
      .slice(0, 600);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return (lines[lines.length - 1] ?? '').slice(0, 600);
}

/** How an exit reads in a message: `code 2` or `signal SIGKILL`. */
export function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.code === null ? `signal ${exit.signal ?? 'unknown'}` : `code ${exit.code}`;
}
