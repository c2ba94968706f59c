import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, createFullProgram, main, toInvokedCommand } from './main.js';
import { createCaptureIo } from './testing/capture-io.js';

describe('differad --help', () => {
  it('documents every command, nested ones too, with an example', async () => {
    const paths: string[][] = [];
    const walk = (command: Awaited<ReturnType<typeof createFullProgram>>, prefix: string[]) => {
      for (const sub of command.commands) {
        const path = [...prefix, sub.name()];
        if (sub.commands.length > 0) walk(sub, path);
        else paths.push(path);
      }
    };
    walk(await createFullProgram(createCaptureIo()), []);
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['score', 'train', 'eval', 'synth', 'worker', 'api', 'data import deeppcb']),
    );
    for (const path of paths) {
      const io = createCaptureIo();
      expect(await main(['node', 'differad', ...path, '--help'], io)).toBe(0);
      expect(io.output, `differad ${path.join(' ')} --help`).toMatch(/Example/);
    }
  });

  it('lists every command in the root help exactly as the command modules define them', async () => {
    const full = await createFullProgram(createCaptureIo());
    expect(COMMANDS.map((entry) => entry.name)).toEqual(full.commands.map((command) => command.name()));
    const io = createCaptureIo();
    expect(await main(['node', 'differad', '--help'], io)).toBe(0);
    expect(io.output).toBe(full.helpInformation());
  });

  it('shows the same help for `differad help <command>` as for `differad <command> --help`', async () => {
    for (const path of [['data'], ['eval']]) {
      const viaHelp = createCaptureIo();
      const viaFlag = createCaptureIo();
      expect(await main(['node', 'differad', 'help', ...path], viaHelp)).toBe(0);
      expect(await main(['node', 'differad', ...path, '--help'], viaFlag)).toBe(0);
      expect(viaHelp.output).toBe(viaFlag.output);
    }
  });

  it('names a close command when the name is unknown, and fails with 1', async () => {
    const io = createCaptureIo();
    expect(await main(['node', 'differad', 'scor'], io)).toBe(1);
    expect(io.output).toContain('(Did you mean score?)');
  });
});

describe('loading commands', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('loads no command module for `differad --help`, and only the one that runs otherwise', async () => {
    const loads = COMMANDS.map((entry) => vi.spyOn(entry, 'load'));
    const loaded = () => COMMANDS.filter((_, k) => loads[k]!.mock.calls.length > 0).map((entry) => entry.name);
    expect(await main(['node', 'differad', '--help'], createCaptureIo())).toBe(0);
    expect(loaded()).toEqual([]);
    expect(await main(['node', 'differad', 'score', '--help'], createCaptureIo())).toBe(0);
    expect(loaded()).toEqual(['score']);
  });
});

describe('toInvokedCommand', () => {
  it('finds the command to load from argv, help <command> included', () => {
    expect(toInvokedCommand(['node', 'differad', 'score', '--manifest', 'm.jsonl'])).toBe('score');
    expect(toInvokedCommand(['node', 'differad', 'data', 'import', 'deeppcb', '--help'])).toBe('data');
    expect(toInvokedCommand(['node', 'differad', 'help', 'eval'])).toBe('eval');
    expect(toInvokedCommand(['node', 'differad', '--help'])).toBeUndefined();
    expect(toInvokedCommand(['node', 'differad', 'scor'])).toBeUndefined();
  });
});
