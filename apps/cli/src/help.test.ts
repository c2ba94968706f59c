import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { createProgram, main } from './main.js';

function captureIo(): CliIo & { out: string[] } {
  const out: string[] = [];
  return { env: {}, cwd: process.cwd(), interactive: false, out, stdout: (s) => void out.push(s), stderr: (s) => void out.push(s), setExitCode: () => undefined };
}

describe('differad --help', () => {
  it('documents every command, nested ones too, with an example', async () => {
    const paths: string[][] = [];
    const walk = (command: ReturnType<typeof createProgram>, prefix: string[]) => {
      for (const sub of command.commands) {
        const path = [...prefix, sub.name()];
        if (sub.commands.length > 0) walk(sub, path);
        else paths.push(path);
      }
    };
    walk(createProgram(captureIo()), []);
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['score', 'train', 'eval', 'synth', 'worker', 'api', 'data import deeppcb']));
    for (const path of paths) {
      const io = captureIo();
      expect(await main(['node', 'differad', ...path, '--help'], io)).toBe(0);
      expect(io.out.join(''), `differad ${path.join(' ')} --help`).toMatch(/Example/);
    }
  });
});
