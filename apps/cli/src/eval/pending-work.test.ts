import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeSampleScore, DEFAULT_SCORE_SETTINGS, type ManifestRecord, type SampleScore } from '@differad/core';
import { indexManifest } from '@differad/datasets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findPendingWork } from './pending-work.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-pending-work-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (id: string): ManifestRecord => ({
  id,
  class: 'c',
  reference: `${id}-r.png`,
  target: `${id}-t.png`,
  width: 100,
  height: 100,
  box: [10, 10, 50, 50],
});
const answer = (id: string, completion: string) => JSON.stringify({ id, completion, server: 'http://s', latency_ms: 1 });
const HIT = '<think>t</think><answer>(100,100),(500,500)</answer>';
const MISS = '<think>t</think><answer>(0,0),(0,0)</answer>';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('findPendingWork', () => {
  it('asks only the selected ids without a usable answer, and scores the resumed ones from the first usable line per id', async () => {
    const manifest = join(dir, 'manifest.jsonl');
    const records = ['a', 'b', 'c', 'd', 'e'].map(record);
    await writeFile(manifest, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const predictions = join(dir, 'predictions.jsonl');
    // c's only line is not JSON; a's second line is ignored; z is not in the manifest; e is past --limit.
    await writeFile(
      predictions,
      [answer('a', HIT), '{"id":"c",', answer('a', MISS), answer('b', MISS), answer('z', HIT), answer('e', HIT), ''].join('\n'),
    );
    const index = await indexManifest(manifest);
    const resumed: SampleScore[] = [];
    const work = await findPendingWork({
      index,
      predictionsPath: predictions,
      settings: DEFAULT_SCORE_SETTINGS,
      limit: 4,
      onResumed: (s) => resumed.push(s),
    });
    expect(work).toMatchObject({ selected: 4, answered: 2, pending: 2 });
    expect((await collect(work.records())).map((r) => r.id)).toEqual(['c', 'd']);
    expect(resumed).toEqual([
      computeSampleScore(records[0]!, { id: 'a', completion: HIT }),
      computeSampleScore(records[1]!, { id: 'b', completion: MISS }),
    ]);
    expect(resumed.map((s) => s.u >= 0.3)).toEqual([true, false]);
  });

  it('asks every selected record when nothing is resumed or no answer arrived yet', async () => {
    const manifest = join(dir, 'manifest.jsonl');
    await writeFile(manifest, `${['a', 'b', 'c'].map((id) => JSON.stringify(record(id))).join('\n')}\n`);
    const index = await indexManifest(manifest);
    for (const predictionsPath of [null, join(dir, 'absent.jsonl')]) {
      const work = await findPendingWork({ index, predictionsPath, settings: DEFAULT_SCORE_SETTINGS });
      expect(work).toMatchObject({ selected: 3, answered: 0, pending: 3 });
      expect((await collect(work.records())).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    }
  });

  it('stops with MANIFEST_CHANGED when the manifest no longer matches its first read', async () => {
    const manifest = join(dir, 'manifest.jsonl');
    await writeFile(manifest, `${['a', 'b'].map((id) => JSON.stringify(record(id))).join('\n')}\n`);
    const work = await findPendingWork({ index: await indexManifest(manifest), predictionsPath: null, settings: DEFAULT_SCORE_SETTINGS });
    await writeFile(manifest, `${['b', 'a'].map((id) => JSON.stringify(record(id))).join('\n')}\n`);
    await expect(collect(work.records())).rejects.toMatchObject({ code: 'MANIFEST_CHANGED' });
  });
});
