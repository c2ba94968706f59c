import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRawImage } from '@differad/images';
import { startFakeVllm } from '@differad/testing';
import { type RssRun, runWithMaxRss } from './run-with-max-rss.js';

const SIZE = 64;
/** Distinct image pairs the manifest's records cycle through (eval checks and prepares each record's files). */
const PAIRS = 8;

/** What one `differad eval` child did. */
export type EvalRun = RssRun;

function runEval(bin: string, args: readonly string[]): Promise<EvalRun> {
  return runWithMaxRss([bin, 'eval', ...args], { tailLines: 4 });
}

/**
 * Peak RSS of `differad eval` (the build at `bin`, node's default heap) over
 * an n-record manifest against an in-process fake vLLM that answers at once:
 * a fresh run that asks every record, then a rerun that resumes from the
 * finished predictions.jsonl (nothing left to ask: it reads and scores).
 */
export async function measureEvalRss(n: number, bin: string): Promise<{ fresh: EvalRun; resumed: EvalRun }> {
  const dir = await mkdtemp(join(tmpdir(), 'differad-bench-eval-'));
  const server = await startFakeVllm({ model: 'm', slots: 512, tokensPerSecond: 1e6, prefillMsPerImage: 0, policy: 'constant' });
  try {
    for (let k = 0; k < PAIRS; k++) {
      const data = new Uint8Array(SIZE * SIZE * 3).map((_, i) => (i * (k + 3)) % 251);
      await writeRawImage(join(dir, `ref-${k}.png`), { data, width: SIZE, height: SIZE, channels: 3 });
      await writeRawImage(join(dir, `tgt-${k}.png`), { data: data.map((v) => 255 - v), width: SIZE, height: SIZE, channels: 3 });
    }
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = i % PAIRS;
      const box = i % 4 === 3 ? null : [4 + (i % 20), 6, 30 + (i % 30), 40];
      lines.push(
        JSON.stringify({
          id: `pair-${i}`,
          class: `class-${i % 15}`,
          reference: `ref-${k}.png`,
          target: `tgt-${k}.png`,
          width: SIZE,
          height: SIZE,
          box,
        }),
      );
    }
    const manifest = join(dir, 'manifest.jsonl');
    await writeFile(manifest, `${lines.join('\n')}\n`);
    const args = [
      '--manifest',
      manifest,
      '--out',
      join(dir, 'out'),
      '--endpoint',
      server.url,
      '--model',
      'm',
      '--concurrency',
      '64',
      '--json',
    ];
    const fresh = await runEval(bin, args);
    const resumed = await runEval(bin, args);
    return { fresh, resumed };
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
