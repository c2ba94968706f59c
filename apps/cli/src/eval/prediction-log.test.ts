import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPredictionLog } from './prediction-log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-prediction-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (id: string) => ({ id, completion: `<answer>${id}</answer>`, server: 'http://s', latency_ms: 3 });

describe('openPredictionLog', () => {
  it('creates the file and appends whole lines, concurrent appends included', async () => {
    const path = join(dir, 'p.jsonl');
    const log = await openPredictionLog(path, () => {});
    expect(log.existing.size).toBe(0);
    await Promise.all(['a', 'b', 'c'].map((id) => log.append(line(id))));
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l).id)).toEqual(['a', 'b', 'c']);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('resumes: keeps the first line per id, skips junk, and cuts a torn last line with a warning', async () => {
    const path = join(dir, 'p.jsonl');
    await writeFile(path, [JSON.stringify(line('a')), 'not json', JSON.stringify({ ...line('a'), completion: 'second' }), JSON.stringify(line('b')), '{"id":"c","compl'].join('\n'));
    const warnings: string[] = [];
    const log = await openPredictionLog(path, (m) => warnings.push(m));
    expect([...log.existing.keys()]).toEqual(['a', 'b']);
    expect(log.existing.get('a')).toMatchObject({ completion: '<answer>a</answer>' });
    expect(warnings).toEqual([expect.stringContaining('p.jsonl:5: ignored a torn last line')]);
    await log.append(line('c'));
    await log.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines.at(-2)).toBe(JSON.stringify(line('c')));
    expect(lines.filter((l) => l.includes('compl"') || l.endsWith('"compl'))).toEqual([]);
  });
});
