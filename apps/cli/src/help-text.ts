import type { AddHelpTextContext, Command, HelpConfiguration } from 'commander';

/** Below this many columns text is left as written, as commander does. */
const MIN_WIDTH_TO_WRAP = 20;

/** Extra indent of the continuation lines of a wrapped example command. */
const CONTINUATION_INDENT = 4;

/** The width commander lays `command`'s help out in: a configured helpWidth, else the terminal's columns, else 80. */
export function helpWidthOf(command: Command, error: boolean): number {
  const configured = command.createHelp().helpWidth;
  if (configured !== undefined) return configured;
  const output = command.configureOutput();
  return (error ? output.getErrHelpWidth?.() : output.getOutHelpWidth?.()) ?? 80;
}

/** Shell words of a command line: split at spaces outside quotes, so that a wrap never breaks a quoted argument. */
function toShellWords(line: string): string[] {
  return line.match(/(?:[^\s'"]+|'[^']*'|"(?:\\.|[^"\\])*")+/g) ?? [];
}

/** Fills `words` into lines of at most `width` columns: the first after `first`, the others after `next`; `end` closes every line but the last. */
function fill(words: readonly string[], width: number, first: string, next: string, end = ''): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length + end.length > width) {
      lines.push(`${line}${end}`);
      line = next + word;
    } else {
      line = empty ? line + word : `${line} ${word}`;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** One indented line: a `term  description` row keeps its description column; anything else is a shell command, continued with ` \`. */
function wrapIndentedLine(line: string, width: number): string[] {
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const row = /^(\s+\S+\s{2,})(\S.*)$/.exec(line);
  if (row) {
    const column = ' '.repeat(row[1]!.length);
    return fill(row[2]!.split(/\s+/), width, row[1]!, column);
  }
  return fill(toShellWords(line.slice(indent.length)), width, indent, indent + ' '.repeat(CONTINUATION_INDENT), ' \\');
}

/**
 * Wraps a block of help text at `width`. A line that starts in the first
 * column is prose and wraps at spaces; an indented line is an example command
 * (continued with ` \` on an indented next line, so it can still be pasted)
 * or a `term  description` row (wrapped under its description). A word longer
 * than the width (a URL, a path) stays whole on a line of its own.
 */
export function wrapHelpText(text: string, width: number): string {
  if (width < MIN_WIDTH_TO_WRAP) return text;
  return text
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width) return [line];
      if (/^\s/.test(line)) return wrapIndentedLine(line, width);
      return fill(
        line.split(/\s+/).filter((word) => word !== ''),
        width,
        '',
        '',
      );
    })
    .join('\n');
}

/**
 * Help settings of every command. Commander lays help out at the terminal's
 * width (80 when stdout is not a terminal); descriptions, option help and
 * the text after the options all wrap through `wrapHelpText`, so that lists
 * and examples in them keep their columns. Commander's own minimum of 40
 * columns beside the option column would leave long option names unwrapped
 * on a narrow terminal.
 */
export const HELP_CONFIGURATION: HelpConfiguration = {
  minWidthToWrap: MIN_WIDTH_TO_WRAP,
  boxWrap: wrapHelpText,
};

/**
 * For `addHelpText`: `text` wrapped at the width of the help being printed.
 * Write each prose paragraph as one line; the terminal's width decides where it breaks.
 */
export function helpText(text: string): (context: AddHelpTextContext) => string {
  return ({ command, error }) => wrapHelpText(text, helpWidthOf(command, error));
}
