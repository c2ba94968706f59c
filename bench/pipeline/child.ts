/** Starts a bench helper as a child process (node + tsx) and waits for its first JSON line. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BenchChild<T> {
  readonly hello: T;
  readonly pid: number;
  /** Sends an IPC message and resolves with the child's next message. */
  ask<R>(message: unknown): Promise<R>;
  stop(): Promise<void>;
}

/** Runs `./<script>` of this folder with `args`; resolves with the JSON of the first line it prints. */
export async function startChild<T>(script: string, args: readonly string[]): Promise<BenchChild<T>> {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! });
  const first = once(lines, 'line') as Promise<[string]>;
  const [line] = await Promise.race([first, exited.then(() => Promise.reject(new Error(`${script} exited before it was ready`)))]);
  return {
    hello: JSON.parse(line) as T,
    pid: child.pid ?? -1,
    ask: async <R>(message: unknown) => {
      const reply = once(child, 'message') as Promise<[R]>;
      child.send(message as string);
      return (await reply)[0];
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
