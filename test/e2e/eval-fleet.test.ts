import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Box, DEFAULT_RESIZE, toModelFrame } from '@differad/core';
import { createFramePreparer, type RawImage, writeRawImage } from '@differad/images';
import { createBoxLookup, type FakeVllmOptions, startFakeFleet, type BoxLookup } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, runCli } from './run-cli.js';

const WIDTH = 96;
const HEIGHT = 80;
const PAIRS = 30;

/** A striped picture that differs per pair, so every target has its own content hash. */
function drawReference(k: number): RawImage {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const v = ((x + k * 3) >> 2) % 2 === 0 ? 180 : 90;
      data.set([v, (v + k * 5) % 256, 120], (y * WIDTH + x) * 3);
    }
  }
  return { data, width: WIDTH, height: HEIGHT, channels: 3 };
}

function paint(image: RawImage, box: Box): RawImage {
  const data = new Uint8Array(image.data);
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) data.set([250, 250, 20], (y * WIDTH + x) * 3);
  return { ...image, data };
}

let dir: string;
let manifest: string;
let lookup: BoxLookup;
const ids: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-eval-'));
  const lines: string[] = [];
  const entries: { targetImage: string; box: Box | null }[] = [];
  // The fake answers the ground truth of the target it is sent: the key is the data URL eval sends.
  const preparer = createFramePreparer({ resize: DEFAULT_RESIZE });
  for (let k = 0; k < PAIRS; k++) {
    const id = `pair-${String(k).padStart(2, '0')}`;
    const box: Box | null = k % 4 === 3 ? null : [10 + (k % 5) * 12, 8 + (k % 3) * 15, 30 + (k % 5) * 12, 30 + (k % 3) * 15];
    const reference = drawReference(k);
    await writeRawImage(join(dir, 'img', `${id}-ref.png`), reference);
    await writeRawImage(join(dir, 'img', `${id}-tgt.png`), box === null ? reference : paint(reference, box));
    const prepared = await preparer.prepareImage(join(dir, 'img', `${id}-tgt.png`));
    entries.push({
      targetImage: prepared.dataUrl,
      box: box === null ? null : toModelFrame(box, 'norm1000', { width: WIDTH, height: HEIGHT }),
    });
    lines.push(
      JSON.stringify({
        id,
        class: k % 2 === 0 ? 'even' : 'odd',
        reference: `img/${id}-ref.png`,
        target: `img/${id}-tgt.png`,
        width: WIDTH,
        height: HEIGHT,
        box,
      }),
    );
    ids.push(id);
  }
  manifest = join(dir, 'manifest.jsonl');
  await writeFile(manifest, `${lines.join('\n')}\n`);
  lookup = createBoxLookup(entries);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fake = (over: Partial<FakeVllmOptions> = {}): FakeVllmOptions => ({
  model: 'm',
  policy: 'exact',
  lookup,
  slots: 2,
  tokensPerSecond: 400,
  prefillMsPerImage: 2,
  ...over,
});
const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { id: string; server: string; completion: string });
/** Every file of a folder with its bytes, to show a refused run touched nothing. */
const readFolder = async (path: string) =>
  new Map(await Promise.all((await readdir(path)).sort().map(async (f) => [f, await readFile(join(path, f), 'utf8')] as const)));

/** `differad score --json --out` over the files eval used: eval's metrics.json and scores.jsonl must equal them. */
async function expectSameAsScore(out: string): Promise<void> {
  const scored = await runCli([
    'score',
    '--manifest',
    manifest,
    '--predictions',
    join(out, 'predictions.jsonl'),
    '--json',
    '--out',
    join(out, 'score-check.jsonl'),
  ]);
  expect(scored.code, scored.stderr).toBe(0);
  expect(JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'))).toEqual(JSON.parse(scored.stdout));
  expect(await readFile(join(out, 'scores.jsonl'), 'utf8')).toBe(await readFile(join(out, 'score-check.jsonl'), 'utf8'));
}

describe('differad eval over a fake vLLM fleet', () => {
  it('scores every sample exactly once when a server dies mid-run, and matches differad score', async () => {
    const fleet = await startFakeFleet([fake(), fake(), fake()]);
    try {
      const victim = fleet.servers[1]!;
      let seen = 0;
      // Kill the second server once it has answered two requests and holds more: mid-run by construction.
      const off = victim.on('request', () => {
        if (++seen === 4) {
          off();
          victim.kill();
        }
      });
      const out = join(dir, 'kill');
      const result = await runCli([
        'eval',
        '--manifest',
        manifest,
        '--out',
        out,
        '--endpoint',
        fleet.urls.join(','),
        '--model',
        'm',
        '--concurrency',
        '9',
        '--timeout',
        '5',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(seen).toBe(4);
      const lines = await readLines(join(out, 'predictions.jsonl'));
      expect(lines.map((l) => l.id).sort()).toEqual(ids);
      const byServer = new Map<string, number>();
      for (const l of lines) byServer.set(l.server, (byServer.get(l.server) ?? 0) + 1);
      expect((byServer.get(fleet.urls[0]!) ?? 0) + (byServer.get(fleet.urls[2]!) ?? 0)).toBeGreaterThanOrEqual(PAIRS - 3);
      expect(byServer.get(victim.url) ?? 0).toBeLessThanOrEqual(3);
      await expectSameAsScore(out);
      const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
      // The fake answers the truth (rounded to norm1000), so everything is a hit.
      expect(metrics.overall.acc).toBe(1);
      expect(Object.keys(metrics.classes)).toEqual(['even', 'odd']);
    } finally {
      await fleet.close();
    }
  });

  it('gives up on a hung server at the deadline and answers on another', async () => {
    const fleet = await startFakeFleet([fake({ faults: { hangRate: 1 } }), fake()]);
    try {
      const out = join(dir, 'hang');
      const result = await runCli([
        'eval',
        '--manifest',
        manifest,
        '--out',
        out,
        '--endpoint',
        fleet.urls.join(','),
        '--model',
        'm',
        '--limit',
        '8',
        '--concurrency',
        '4',
        '--timeout',
        '0.4',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(fleet.servers[0]!.stats().hung).toBeGreaterThanOrEqual(1);
      const lines = await readLines(join(out, 'predictions.jsonl'));
      expect(lines.map((l) => l.id).sort()).toEqual(ids.slice(0, 8));
      expect(new Set(lines.map((l) => l.server))).toEqual(new Set([fleet.urls[1]]));
    } finally {
      await fleet.close();
    }
  });

  it('resumes a partial run: asks only the missing ids and ignores a torn last line', async () => {
    const fleet = await startFakeFleet([fake(), fake()]);
    try {
      const out = join(dir, 'resume');
      const args = ['eval', '--manifest', manifest, '--out', out, '--endpoint', fleet.urls.join(','), '--model', 'm'];
      const first = await runCli([...args, '--limit', '10']);
      expect(first.code, first.stderr).toBe(0);
      const asked = () => fleet.servers.reduce((n, s) => n + s.stats().received, 0);
      expect(asked()).toBe(10);
      await appendFile(join(out, 'predictions.jsonl'), '{"id":"pair-10","completion":"<think>cut');
      // Settings that do not change answers (server list and order, concurrency, deadline) do not stop a resume.
      const second = await runCli([
        ...args.slice(0, -4),
        '--endpoint',
        [...fleet.urls].reverse().join(','),
        '--model',
        'm',
        '--concurrency',
        '3',
        '--timeout',
        '60',
      ]);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain('ignored a torn last line');
      expect(second.stderr).toContain(`resuming: 10 of ${PAIRS} samples already answered`);
      expect(asked()).toBe(PAIRS);
      expect((await readLines(join(out, 'predictions.jsonl'))).map((l) => l.id).sort()).toEqual(ids);
      await expectSameAsScore(out);
    } finally {
      await fleet.close();
    }
  });

  it('resumes only what the same model answered: another model is refused before any request, --force starts afresh', async () => {
    const first = await startFakeFleet([fake()]);
    const other = await startFakeFleet([fake({ model: 'other' })]);
    try {
      const out = join(dir, 'switch');
      const args = (url: string, model: string) => [
        'eval',
        '--manifest',
        manifest,
        '--out',
        out,
        '--endpoint',
        url,
        '--model',
        model,
        '--limit',
        '6',
      ];
      const done = await runCli(args(first.urls[0]!, 'm'));
      expect(done.code, done.stderr).toBe(0);
      await writeFile(join(out, 'notes.txt'), 'not written by eval\n');
      const before = await readFolder(out);
      const otherAsked = () => other.servers[0]!.stats().received;

      const refused = await runCli(args(other.urls[0]!, 'other'));
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain('EVAL_OUTPUT_MISMATCH');
      expect(refused.stderr).toContain('model: "m" → "other"');
      expect(refused.stderr).toContain('--force');
      expect(refused.stderr).not.toContain('resuming');
      expect(otherAsked()).toBe(0);
      expect(await readFolder(out)).toEqual(before);

      const forced = await runCli([...args(other.urls[0]!, 'other'), '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).not.toContain('resuming');
      expect(otherAsked()).toBe(6);
      const lines = await readLines(join(out, 'predictions.jsonl'));
      expect(lines.map((l) => l.id).sort()).toEqual(ids.slice(0, 6));
      expect(new Set(lines.map((l) => l.server))).toEqual(new Set([other.urls[0]]));
      expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<title>differad eval · other</title>');
      expect(JSON.parse(await readFile(join(out, 'eval-run.json'), 'utf8'))).toMatchObject({ settings: { model: 'other' } });
      expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('not written by eval\n');

      // Answers with no record of what produced them (an older differad) are not resumed either.
      await rm(join(out, 'eval-run.json'));
      const unrecorded = await runCli(args(other.urls[0]!, 'other'));
      expect(unrecorded.code, unrecorded.stderr).toBe(2);
      expect(unrecorded.stderr).toContain('EVAL_OUTPUT_UNRECORDED');
      expect(unrecorded.stderr).toContain('--force');
      expect(otherAsked()).toBe(6);
    } finally {
      await Promise.all([first.close(), other.close()]);
    }
  });

  it('answers every UTF-8 id (CJK, newline, emoji, 300 characters) and ejects no server', async () => {
    // The ids reuse the first pairs' images: only the ids differ from the main manifest.
    const odd = ['缺陷-0001', 'id with\nnewline', 'crack 🔥🐛 %41~', '長い-id/'.repeat(50)];
    expect(odd[3]!.length).toBe(300);
    const records = (await readFile(manifest, 'utf8')).split('\n').slice(0, odd.length);
    const unicode = join(dir, 'unicode.jsonl');
    await writeFile(unicode, records.map((line, k) => JSON.stringify({ ...JSON.parse(line), id: odd[k] })).join('\n') + '\n');
    const fleet = await startFakeFleet([fake(), fake()]);
    const headers: (string | null)[] = [];
    for (const server of fleet.servers) server.on('request', ({ requestId }) => headers.push(requestId));
    try {
      const out = join(dir, 'unicode');
      const result = await runCli([
        'eval',
        '--manifest',
        unicode,
        '--out',
        out,
        '--endpoint',
        fleet.urls.join(','),
        '--model',
        'm',
        '--timeout',
        '5',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain('eject');
      const lines = await readLines(join(out, 'predictions.jsonl'));
      expect(lines.map((l) => l.id).sort()).toEqual([...odd].sort());
      // Each id reached a server exactly once, under its own printable header.
      expect(fleet.servers.reduce((n, s) => n + s.stats().received, 0)).toBe(odd.length);
      expect(new Set(headers).size).toBe(odd.length);
      for (const h of headers) expect(h).toMatch(/^eval-[\x21-\x7e]{1,200}$/);
      expect(headers).toContain('eval-%E7%BC%BA%E9%99%B7-0001');
      const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
      expect(metrics.input.samples).toBe(odd.length);
      expect(metrics.overall.acc).toBe(1);
    } finally {
      await fleet.close();
    }
  });

  it('on Ctrl-C keeps what finished, scores it and exits with 130', async () => {
    const fleet = await startFakeFleet([fake({ tokensPerSecond: 60, slots: 1 })]);
    try {
      const out = join(dir, 'interrupt');
      const child = spawn(
        process.execPath,
        [CLI_BIN, 'eval', '--manifest', manifest, '--out', out, '--endpoint', fleet.urls[0]!, '--model', 'm', '--concurrency', '1'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Two answers delivered and the third asked: the first two are on disk by the time eval asks the third.
      let requests = 0;
      await new Promise<void>((resolve) => {
        const off = fleet.servers[0]!.on('request', () => {
          if (++requests === 3) {
            off();
            resolve();
          }
        });
      });
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(stderr).toContain('interrupted: 2 of');
      const lines = await readLines(join(out, 'predictions.jsonl'));
      expect(lines.map((l) => l.id)).toEqual(ids.slice(0, 2));
      const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
      expect(metrics.input.samples).toBe(2);
    } finally {
      await fleet.close();
    }
  });
});
