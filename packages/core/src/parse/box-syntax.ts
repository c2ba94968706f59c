/**
 * Hand-written scanners for the box notations of docs/method.md §3. Each scanner
 * reads forward from one position and never backtracks; the characters it can
 * consume (digits, whitespace, separators) exclude the opening characters of
 * the next candidate, so trying every start position stays linear overall.
 */
import type { Box } from '../boxes/box.js';

export interface ScannedBox {
  readonly box: Box;
  /** Index just past the box's closing character. */
  readonly end: number;
}

/** Box notations the parser and the format reward understand. */
export type BoxSyntax = 'paren' | 'bracket' | 'box-tag-spaced';

export interface ScanOptions {
  /** Only unsigned integers (the format reward); otherwise decimals and a sign. */
  readonly integersOnly: boolean;
}

const CH_SPACE = 32;
const CH_0 = 48;
const CH_9 = 57;

function isWhitespace(c: number): boolean {
  return c === CH_SPACE || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000;
}

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

/** Index of the first non-whitespace character at or after `i`. */
export function skipWhitespace(text: string, i: number, end: number): number {
  while (i < end && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

interface ScannedNumber {
  readonly value: number;
  readonly end: number;
}

function readNumber(text: string, i: number, end: number, opts: ScanOptions): ScannedNumber | null {
  const start = i;
  if (!opts.integersOnly && i < end && text.charCodeAt(i) === 45 /* - */) i++;
  const digitsStart = i;
  while (i < end && isDigit(text.charCodeAt(i))) i++;
  if (i === digitsStart) return null;
  if (!opts.integersOnly && i + 1 < end && text.charCodeAt(i) === 46 /* . */ && isDigit(text.charCodeAt(i + 1))) {
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
  }
  return { value: Number(text.slice(start, i)), end: i };
}

/** Skips whitespace, then expects `ch`; returns the index after it or -1. */
function expectChar(text: string, i: number, end: number, ch: number): number {
  i = skipWhitespace(text, i, end);
  return i < end && text.charCodeAt(i) === ch ? i + 1 : -1;
}

/** Reads `count` numbers separated by `sep` (a char code) or, when sep is -1, by whitespace or commas. */
function readNumberList(text: string, i: number, end: number, count: number, sep: number, opts: ScanOptions) {
  const values: number[] = [];
  for (let k = 0; k < count; k++) {
    if (k > 0) {
      if (sep >= 0) {
        i = expectChar(text, i, end, sep);
        if (i < 0) return null;
      } else {
        const before = i;
        i = skipWhitespace(text, i, end);
        if (i < end && text.charCodeAt(i) === 44 /* , */) i = skipWhitespace(text, i + 1, end);
        if (i === before) return null;
      }
    }
    i = skipWhitespace(text, i, end);
    const n = readNumber(text, i, end, opts);
    if (n === null) return null;
    values.push(n.value);
    i = n.end;
  }
  return { values, end: i };
}

/** `(x1,y1),(x2,y2)` starting at the `(` at `i`. */
function scanParen(text: string, i: number, end: number, opts: ScanOptions): ScannedBox | null {
  const first = readPair(text, i, end, opts);
  if (first === null) return null;
  let j = expectChar(text, first.end, end, 44 /* , */);
  if (j < 0) return null;
  j = skipWhitespace(text, j, end);
  const second = readPair(text, j, end, opts);
  if (second === null) return null;
  return { box: [first.values[0]!, first.values[1]!, second.values[0]!, second.values[1]!], end: second.end };
}

function readPair(text: string, i: number, end: number, opts: ScanOptions) {
  if (i >= end || text.charCodeAt(i) !== 40 /* ( */) return null;
  const list = readNumberList(text, i + 1, end, 2, 44, opts);
  if (list === null) return null;
  const close = expectChar(text, list.end, end, 41 /* ) */);
  return close < 0 ? null : { values: list.values, end: close };
}

/** `[x1,y1,x2,y2]` starting at the `[` at `i` (so `[[…]]` matches at its inner bracket). */
function scanBracket(text: string, i: number, end: number, opts: ScanOptions): ScannedBox | null {
  if (text.charCodeAt(i) !== 91 /* [ */) return null;
  const list = readNumberList(text, i + 1, end, 4, 44, opts);
  if (list === null) return null;
  const close = expectChar(text, list.end, end, 93 /* ] */);
  if (close < 0) return null;
  const [a, b, c, d] = list.values as [number, number, number, number];
  return { box: [a, b, c, d], end: close };
}

const BOX_OPEN = '<box>';
const BOX_CLOSE = '</box>';

/** `<box>x1 y1 x2 y2</box>` (MiniCPM) starting at the `<` at `i`. */
function scanBoxTagSpaced(text: string, i: number, end: number, opts: ScanOptions): ScannedBox | null {
  if (!text.startsWith(BOX_OPEN, i)) return null;
  const list = readNumberList(text, i + BOX_OPEN.length, end, 4, -1, opts);
  if (list === null) return null;
  const j = skipWhitespace(text, list.end, end);
  if (!text.startsWith(BOX_CLOSE, j) || j + BOX_CLOSE.length > end) return null;
  const [a, b, c, d] = list.values as [number, number, number, number];
  return { box: [a, b, c, d], end: j + BOX_CLOSE.length };
}

const SCANNERS: Record<BoxSyntax, { opener: number; scan: typeof scanParen }> = {
  paren: { opener: 40, scan: scanParen },
  bracket: { opener: 91, scan: scanBracket },
  'box-tag-spaced': { opener: 60, scan: scanBoxTagSpaced },
};

/**
 * The first box, in any of `syntaxes`, that starts at or after `start` and
 * ends by `end`. Linear in `end − start`.
 */
export function findFirstBox(
  text: string,
  start: number,
  end: number,
  syntaxes: readonly BoxSyntax[],
  opts: ScanOptions,
): ScannedBox | null {
  const scanners = syntaxes.map((s) => SCANNERS[s]);
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    for (const s of scanners) {
      if (s.opener !== c) continue;
      const found = s.scan(text, i, end, opts);
      if (found !== null) return found;
    }
  }
  return null;
}

/** A box in `syntaxes` that starts exactly at `i` (after optional whitespace). */
export function scanBoxAt(text: string, i: number, end: number, syntaxes: readonly BoxSyntax[], opts: ScanOptions): ScannedBox | null {
  const j = skipWhitespace(text, i, end);
  for (const s of syntaxes) {
    const found = SCANNERS[s].scan(text, j, end, opts);
    if (found !== null) return found;
  }
  return null;
}
