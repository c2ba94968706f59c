import { type ChildProcess, spawn } from 'node:child_process';
import { CLI_BIN } from './run-cli.js';

/** A long-running `differad` child process. */
export interface SpawnedCli {
  readonly child: ChildProcess;
  /** Resolves with the first match of `pattern` on stdout; rejects if the process exits first. */
  readonly ready: Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts the real `differad` executable and watches its stdout for `pattern`. */
export function spawnCli(args: readonly string[], pattern: RegExp): SpawnedCli {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      stdout += d;
      const m = stdout.match(pattern);
      if (m) resolve(m);
    });
    child.on('error', reject);
    void exited.then((r) => reject(new Error(`differad exited (${r.code ?? r.signal}) before printing ${pattern}: ${r.stderr}`)));
  });
  return { child, ready, exited };
}
