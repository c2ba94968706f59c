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
    await Promise.all(['a', 'b', 'c'].map((id) => log.append(line(id))));
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).id),
    ).toEqual(['a', 'b', 'c']);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('cuts a torn last line with a warning naming its line, and appends after the whole lines', async () => {
    const path = join(dir, 'p.jsonl');
    const whole = [JSON.stringify(line('a')), 'not json', JSON.stringify(line('b')), ''].join('\n');
    await writeFile(path, `${whole}{"id":"c","compl`);
    const warnings: string[] = [];
    const log = await openPredictionLog(path, (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringContaining('p.jsonl:4: ignored a torn last line (16 bytes')]);
    expect(await readFile(path, 'utf8')).toBe(whole);
    await log.append(line('c'));
    await log.close();
    expect(await readFile(path, 'utf8')).toBe(`${whole}${JSON.stringify(line('c'))}\n`);
  });

  it('leaves a whole file as it is, and makes nothing until the first answer', async () => {
    const path = join(dir, 'p.jsonl');
    const whole = `${JSON.stringify(line('a'))}\n`;
    await writeFile(path, whole);
    const warnings: string[] = [];
    await (await openPredictionLog(path, (m) => warnings.push(m))).close();
    expect(await readFile(path, 'utf8')).toBe(whole);
    const later = join(dir, 'sub', 'q.jsonl');
    await (await openPredictionLog(later, (m) => warnings.push(m))).close();
    await expect(readFile(later)).rejects.toThrow(/ENOENT/);
    expect(warnings).toEqual([]);
  });
});
