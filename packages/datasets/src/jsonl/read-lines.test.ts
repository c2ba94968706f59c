import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonl } from './read-jsonl.js';
import { readLines } from './read-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'differad-read-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function linesOf(content: string | Buffer, max = 1024) {
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(path, content);
  const out: unknown[] = [];
  for await (const l of readLines(path, max)) out.push(l.text === null ? { line: l.line, bytes: l.bytes } : [l.line, l.text]);
  return out;
}

describe('readLines', () => {
  it('numbers lines as readline does across \\n, \\r\\n and a lone \\r, with or without a last newline', async () => {
    expect(await linesOf('a\nb\r\nc\rd')).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    expect(await linesOf('a\n\nb\n')).toEqual([
      [1, 'a'],
      [2, ''],
      [3, 'b'],
    ]);
  });

  it('keeps a character split between two chunks whole, and a \\r\\n split between them one break', async () => {
    const head = 'x'.repeat(256 * 1024 - 1);
    expect(await linesOf(`${head}é\nz`, 1 << 20)).toEqual([
      [1, `${head}é`],
      [2, 'z'],
    ]);
    expect(await linesOf(`${head}\r\nz`, 1 << 20)).toEqual([
      [1, head],
      [2, 'z'],
    ]);
  });

  it('skips a line over the limit, reporting its length, and reads the lines after it', async () => {
    const long = 'y'.repeat(600 * 1024);
    expect(await linesOf(`ok\n${long}\nafter\n${long}`, 1000)).toEqual([
      [1, 'ok'],
      { line: 2, bytes: long.length },
      [3, 'after'],
      { line: 4, bytes: long.length },
    ]);
  });

  it('gives readJsonl a problem naming the line, not the text', async () => {
    const path = join(dir, 'long.jsonl');
    writeFileSync(path, `{"a":1}\n"${'z'.repeat(100)}"\n{"b":2}\n`);
    const entries = [];
    for await (const e of readJsonl(path, { maxLineBytes: 50 })) entries.push(e);
    expect(entries).toEqual([
      { line: 1, ok: true, value: { a: 1 } },
      { line: 2, ok: false, message: 'line of 102 bytes is longer than the limit of 50 bytes: not read' },
      { line: 3, ok: true, value: { b: 2 } },
    ]);
  });
});
