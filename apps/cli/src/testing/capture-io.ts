import type { CliIo } from '../cli-io.js';
import { main } from '../main.js';

/** A {@link CliIo} that keeps what a command printed, for running commands in-process. */
export interface CaptureIo extends CliIo {
  /** What went to stdout. */
  out: string;
  /** What went to stderr. */
  err: string;
  /** stdout and stderr together, in the order they were written (as a terminal shows them). */
  output: string;
}

/** Where and how a captured command runs; each field defaults as {@link createCaptureIo} says. */
export interface CaptureIoOptions {
  readonly cwd?: string;
  readonly env?: CliIo['env'];
  readonly interactive?: boolean;
}

/**
 * An in-memory {@link CliIo} for tests: no environment, the test process's
 * working directory and not a terminal unless told otherwise. Imported by
 * tests only, so the CLI build (bundled from main.ts) never includes it.
 */
export function createCaptureIo(options: CaptureIoOptions = {}): CaptureIo {
  const io: CaptureIo = {
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    interactive: options.interactive ?? false,
    out: '',
    err: '',
    output: '',
    stdout: (s) => {
      io.out += s;
      io.output += s;
    },
    stderr: (s) => {
      io.err += s;
      io.output += s;
    },
    // main() returns the exit code; no test reads it from here.
    setExitCode: () => undefined,
  };
  return io;
}

/** Runs `differad ...args` in-process on a {@link createCaptureIo} and returns its exit code and output. */
export async function runCaptured(
  args: readonly string[],
  options: CaptureIoOptions = {},
): Promise<{ code: number; out: string; err: string }> {
  const io = createCaptureIo(options);
  const code = await main(['node', 'differad', ...args], io);
  return { code, out: io.out, err: io.err };
}
