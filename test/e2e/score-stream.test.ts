import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, type CliResult, runCli } from './run-cli.js';

const N = 200_000;
let dir: string;

/** Runs `differad score` with V8's heap capped: the whole run must fit, or node aborts. */
function runCapped(heapMb: number, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, CLI_BIN, 'score', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function writeLines(path: string, n: number, line: (i: number) => string | null): Promise<void> {
  const out = createWriteStream(path);
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const text = line(i);
    if (text !== null) chunk += `${text}\n`;
    if (chunk.length > 1 << 20 || i === n - 1) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
}

const boxOf = (i: number) => (i % 2 === 0 ? [10, 10, 20, 20] : null);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'differad-score-stream-'));
  await writeLines(join(dir, 'manifest.jsonl'), N, (i) =>
    JSON.stringify({
      id: `s${i}`,
      class: `c${i % 7}`,
      reference: `r/${i}.png`,
      target: `t/${i}.png`,
      width: 100,
      height: 100,
      box: boxOf(i),
    }),
  );
  // Every hundredth answer is cut mid-line: 2,000 bad lines, and their ids scored as missing.
  await writeLines(join(dir, 'predictions.jsonl'), N, (i) =>
    i % 100 === 0 ? `{"id":"s${i}","box":[10,` : JSON.stringify({ id: `s${i}`, box: boxOf(i) }),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('differad score streams', () => {
  it(`scores ${N.toLocaleString('en')} lines with a 64 MB heap, writes every line of --out, and lists the first 20 bad lines with a count`, async () => {
    const out = join(dir, 'scores.jsonl');
    const predictions = join(dir, 'predictions.jsonl');
    const result = await runCapped(64, ['--manifest', join(dir, 'manifest.jsonl'), '--predictions', predictions, '--out', out, '--json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.input).toMatchObject({ samples: N, prediction_lines: N, used: N - 2000, malformed: 2000, missing: 2000, invalid: 0 });
    expect(summary.overall.acc).toBeCloseTo((N - 2000) / N, 12);
    expect(Object.keys(summary.classes)).toHaveLength(7);
    expect(result.stderr).toContain('warning: 2000 prediction line(s) not used:');
    expect(result.stderr).toContain(`${predictions}:1: not valid JSON`);
    expect(result.stderr).toContain(`${predictions}:1901: not valid JSON`);
    expect(result.stderr).not.toContain(`${predictions}:2001:`);
    expect(result.stderr).toContain('… and 1980 more');
    expect(result.stderr).toContain('warning: 2000 manifest id(s) have no prediction and are scored as invalid: s0, s100, s200');
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(N);
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: 's0', kind: 'missing' });
    expect(JSON.parse(lines[N - 1]!)).toMatchObject({ id: `s${N - 1}`, kind: 'empty', iou: 1 });
  });

  it('names a prediction line over the length limit by file:line and scores the others', async () => {
    const manifest = join(dir, 'small.jsonl');
    writeFileSync(
      manifest,
      `${JSON.stringify({ id: 'a', class: 'c', reference: 'r.png', target: 't.png', width: 100, height: 100, box: null })}\n`,
    );
    const predictions = join(dir, 'long.jsonl');
    const runaway = `{"id":"a","completion":"${'x'.repeat(17 * 2 ** 20)}"}`;
    writeFileSync(predictions, `\n${runaway}\n${JSON.stringify({ id: 'a', box: null })}\n`);
    const result = await runCli(['score', '--manifest', manifest, '--predictions', predictions, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `${predictions}:2: line of ${runaway.length} bytes is longer than the limit of ${16 * 2 ** 20} bytes: not read`,
    );
    expect(JSON.parse(result.stdout).input).toMatchObject({ prediction_lines: 2, used: 1, malformed: 1 });
  });
});
