import { createReadStream } from 'node:fs';

/** One line of a text file by its 1-based number: its text, or only its length when it is over the limit. */
export type TextLine =
  | { readonly line: number; readonly text: string }
  | { readonly line: number; readonly text: null; readonly bytes: number };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Streams the lines of a file holding at most `maxLineBytes` of one line in
 * memory: a longer line is skipped to its end and yielded with its length and
 * no text, so one runaway line (a model that never stopped, a file without
 * newlines) costs neither the heap nor the lines after it. Lines end at \n,
 * \r\n or a lone \r and are numbered as readline numbers them; text is
 * decoded per whole line, so a character split between chunks stays whole.
 */
export async function* readLines(path: string, maxLineBytes: number): AsyncGenerator<TextLine> {
  let parts: Buffer[] = [];
  let pending = 0;
  let line = 0;
  // The previous chunk ended on \r: a \n opening this one belongs to it.
  let afterCr = false;
  const take = (chunk: Buffer, start: number, end: number): TextLine => {
    line++;
    const bytes = pending + end - start;
    if (bytes > maxLineBytes) {
      parts = [];
      pending = 0;
      return { line, text: null, bytes };
    }
    const whole = parts.length === 0 ? chunk.subarray(start, end) : Buffer.concat([...parts, chunk.subarray(start, end)]);
    parts = [];
    pending = 0;
    return { line, text: whole.toString('utf8') };
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let pos = afterCr && chunk[0] === LF ? 1 : 0;
    afterCr = false;
    let nextCr = chunk.indexOf(CR, pos);
    while (pos < chunk.length) {
      let nl = chunk.indexOf(LF, pos);
      if (nextCr >= 0 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
      let width = 1;
      if (nextCr >= 0 && (nl < 0 || nextCr < nl)) {
        if (nextCr + 1 === nl) width = 2;
        else if (nextCr + 1 === chunk.length) afterCr = true;
        nl = nextCr;
      }
      if (nl < 0) {
        // Keep the unfinished line only while it can still fit; past the limit, count its bytes alone.
        if (pending + chunk.length - pos <= maxLineBytes) parts.push(chunk.subarray(pos));
        else parts = [];
        pending += chunk.length - pos;
        break;
      }
      yield take(chunk, pos, nl);
      pos = nl + width;
    }
  }
  if (pending > 0) yield take(Buffer.alloc(0), 0, 0);
}
