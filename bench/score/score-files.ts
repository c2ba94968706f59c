import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { type Box, createRng, type ManifestRecord, type Rng, toModelFrame } from '@differad/core';

/** A box of at most 200×200 pixels inside a w×h image. */
export function randomBox(rng: Rng, w: number, h: number): Box {
  const x1 = rng.int(0, w - 20);
  const y1 = rng.int(0, h - 20);
  return [x1, y1, rng.int(x1 + 5, Math.min(w, x1 + 200)), rng.int(y1 + 5, Math.min(h, y1 + 200))];
}

/** A model answer to `record`: mostly well-formed, some empty, some garbage. */
export function makeCompletion(rng: Rng, record: ManifestRecord): string {
  const think = 'The target differs from the reference '.repeat(rng.int(1, 6));
  const roll = rng.next();
  if (roll < 0.05) return `garbage ${think} (12, 40) [7, 8`;
  if (record.box === null || roll < 0.15) return `<think>${think}</think><answer>(0,0),(0,0)</answer>`;
  const size = { width: record.width, height: record.height };
  const b = toModelFrame(randomBox(rng, record.width, record.height), 'norm1000', size);
  return rng.next() < 0.5
    ? `<think>${think}</think><answer>(${b[0]},${b[1]}),(${b[2]},${b[3]})</answer>`
    : `<think>${think}</think>\n<answer>[ ${b[0]}, ${b[1]}, ${b[2]}, ${b[3]} ]</answer> trailing`;
}

/** The i-th record of the generated manifest. */
export function makeRecord(rng: Rng, i: number): ManifestRecord {
  const width = rng.pick([256, 640, 1024]);
  const height = rng.pick([256, 480, 1024]);
  return {
    id: `s${i}`,
    class: `class-${i % 15}`,
    subset: i % 3 === 0 ? 'texture' : 'object',
    reference: `ref/${i}.png`,
    target: `target/${i}.png`,
    width,
    height,
    box: rng.next() < 0.25 ? null : [...randomBox(rng, width, height)],
  };
}

/** Appends lines to a file in 1 MB chunks. */
function createLineWriter(path: string) {
  const out = createWriteStream(path, { encoding: 'utf8' });
  let chunk = '';
  return {
    async add(line: string) {
      chunk += `${line}\n`;
      if (chunk.length < 1 << 20) return;
      const full = chunk;
      chunk = '';
      if (!out.write(full)) await once(out, 'drain');
    },
    async close() {
      out.end(chunk);
      await once(out, 'finish');
    },
  };
}

/**
 * Writes an n-line manifest and a prediction file answering it the way a real
 * run goes wrong: 2% of ids unanswered, 1% of lines not JSON, 0.5% answering an
 * id twice, 0.5% naming an id the manifest lacks.
 */
export async function writeScoreFiles(manifestPath: string, predictionsPath: string, n: number): Promise<void> {
  const rng = createRng('bench-score-files');
  const manifest = createLineWriter(manifestPath);
  const predictions = createLineWriter(predictionsPath);
  for (let i = 0; i < n; i++) {
    const record = makeRecord(rng, i);
    await manifest.add(JSON.stringify(record));
    const roll = rng.next();
    if (roll < 0.02) continue;
    const completion = makeCompletion(rng, record);
    if (roll < 0.03) await predictions.add(`{"id":"${record.id}","completion":"${completion.slice(0, 20)}`);
    else await predictions.add(JSON.stringify({ id: record.id, completion }));
    if (roll > 0.995) await predictions.add(JSON.stringify({ id: record.id, completion: 'again' }));
    else if (roll > 0.99) await predictions.add(JSON.stringify({ id: `unknown-${i}`, completion }));
  }
  await Promise.all([manifest.close(), predictions.close()]);
}
