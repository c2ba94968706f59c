import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { wrapHelpText } from './help-text.js';
import { createFullProgram } from './main.js';
import { createCaptureIo } from './testing/capture-io.js';

/** Every command of the program, the program itself and nested ones included, with its path. */
function listCommands(command: Command, path: string[] = []): { path: string; command: Command }[] {
  return [
    { path: ['differad', ...path].join(' '), command },
    ...command.commands.flatMap((sub) => listCommands(sub, [...path, sub.name()])),
  ];
}

/** The full help of every command, as a terminal `width` columns wide would show it. */
async function renderHelp(width: number): Promise<{ path: string; text: string }[]> {
  const io = createCaptureIo();
  const commands = listCommands(await createFullProgram(io));
  for (const { command } of commands) command.configureOutput({ getOutHelpWidth: () => width });
  return commands.map(({ path, command }) => {
    io.output = '';
    command.outputHelp();
    return { path, text: io.output };
  });
}

/**
 * Places where the source broke a sentence: a line of prose (starting in the
 * first column; indented lines are examples, lists and tables) followed by
 * another line of prose although it does not end with `.` or `:`.
 */
function findMidSentenceBreaks(text: string): string[] {
  const lines = text.split('\n');
  return lines.flatMap((line, k) => {
    const next = lines[k + 1] ?? '';
    return /^\S/.test(line) && /^\S/.test(next) && !/[.:]$/.test(line) ? [`${line}⏎${next}`] : [];
  });
}

/**
 * A line may pass the width only where a single word (a URL, a path, a JSON
 * shape) does not fit: alone on the line, or alone beside its term column.
 */
const isUnbreakable = (line: string) =>
  !/\s/.test(
    line
      .trim()
      .replace(/^\S.*?\s{2,}/, '')
      .replace(/ \\$/, ''),
  );

describe('wrapHelpText', () => {
  it('wraps prose at spaces and keeps short lines and blank lines as they are', () => {
    const text = 'Exit codes: 0 done; 1 wrong usage (unknown option, bad flag value); 2 unusable input.\n\nShort line.';
    expect(wrapHelpText(text, 40)).toBe(
      'Exit codes: 0 done; 1 wrong usage\n(unknown option, bad flag value); 2\nunusable input.\n\nShort line.',
    );
  });

  it('continues a long example command with " \\" on indented lines, never inside a quoted argument', () => {
    const text = "  differad data import masks --images shots/ --mask-pattern '{stem} mask.png' --normals good/ --out data/shots";
    const lines = wrapHelpText(text, 44).split('\n');
    expect(lines).toEqual([
      '  differad data import masks --images \\',
      '      shots/ --mask-pattern \\',
      "      '{stem} mask.png' --normals good/ \\",
      '      --out data/shots',
    ]);
  });

  it('wraps a "term  description" row under its description column', () => {
    const text = '  scores.jsonl       per-sample scores (as `differad score --out`)';
    expect(wrapHelpText(text, 44)).toBe('  scores.jsonl       per-sample scores (as\n                     `differad score --out`)');
  });

  it('leaves a word longer than the width whole, and leaves text alone below commander’s minimum width', () => {
    const url = 'http://gpu-server-with-a-long-name.example.com:8000/v1';
    expect(wrapHelpText(`see ${url} for details`, 30)).toBe(`see\n${url}\nfor details`);
    expect(wrapHelpText('a b c d e f g h i j k l m n o p', 19)).toBe('a b c d e f g h i j k l m n o p');
  });
});

describe('help text of every command', () => {
  it('writes each description, summary and option help sentence on one line (the terminal width decides the breaks)', async () => {
    const problems: string[] = [];
    for (const { path, command } of listCommands(await createFullProgram(createCaptureIo()))) {
      const texts: [string, string][] = [
        ['description', command.description()],
        ['summary', command.summary()],
        ...command.options.map((o): [string, string] => [o.flags, o.description]),
        ...command.registeredArguments.map((a): [string, string] => [`<${a.name()}>`, a.description]),
      ];
      for (const [what, text] of texts) problems.push(...findMidSentenceBreaks(text).map((at) => `${path} ${what}: ${at}`));
    }
    expect(problems).toEqual([]);
  });

  it('writes each prose paragraph of the text after the options on one line', async () => {
    const pages = await renderHelp(10_000);
    expect(pages.flatMap(({ path, text }) => findMidSentenceBreaks(text).map((at) => `${path}: ${at}`))).toEqual([]);
  });

  it('fits every line of every help page into a 60-column terminal, but for words that cannot be broken', async () => {
    const pages = await renderHelp(60);
    expect(pages.length).toBeGreaterThan(15);
    const problems = pages.flatMap(({ path, text }) =>
      text
        .split('\n')
        .filter((line) => line.length > 60 && !isUnbreakable(line))
        .map((line) => `${path}: ${line}`),
    );
    expect(problems).toEqual([]);
  });

  it('uses the full width of a wide terminal instead of the source’s line breaks', async () => {
    const score = (await renderHelp(200)).find((page) => page.path === 'differad score')!;
    expect(score.text).toContain(
      'Scores predictions against a manifest: per sample the format reward, the localization reward and the evaluation IoU; overall,',
    );
    expect(score.text).toContain(
      '  differad score --manifest m.jsonl --predictions p.jsonl --family qwen2.5-vl --frame resized-pixels --json\n',
    );
  });
});
