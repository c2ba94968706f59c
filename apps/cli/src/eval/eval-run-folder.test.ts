import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discardEvalOutputs, loadEvalFolderState, startEvalRun } from './eval-run-folder.js';
import { EVAL_OUTPUT_FILES, type EvalRunRecord } from './eval-run-record.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-eval-run-folder-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record: EvalRunRecord = {
  format: 1,
  created: '2025-01-01T00:00:00.000Z',
  settings: { model: 'm', seed: 0 },
  context: { endpoints: ['http://a:8000'] },
};

describe('loadEvalFolderState', () => {
  it('reads a missing folder as empty', async () => {
    expect(await loadEvalFolderState(join(dir, 'nowhere'))).toEqual({ record: { kind: 'none' }, hasAnswers: false });
  });

  it('counts only whole prediction lines as answers', async () => {
    await writeFile(join(dir, 'predictions.jsonl'), '{"id":"a","compl');
    expect((await loadEvalFolderState(dir)).hasAnswers).toBe(false);
    await writeFile(join(dir, 'predictions.jsonl'), '{"id":"a","completion":"x"}\n');
    expect((await loadEvalFolderState(dir)).hasAnswers).toBe(true);
  });

  it('reads back the record startEvalRun wrote, and says why a damaged one cannot be used', async () => {
    await startEvalRun(dir, record);
    expect(await loadEvalFolderState(dir)).toEqual({ record: { kind: 'found', record }, hasAnswers: false });
    await writeFile(join(dir, 'eval-run.json'), '{"format":1,');
    expect((await loadEvalFolderState(dir)).record).toMatchObject({ kind: 'unreadable', reason: expect.stringContaining('not JSON') });
    await writeFile(join(dir, 'eval-run.json'), '{"format":7,"settings":{}}');
    expect((await loadEvalFolderState(dir)).record).toMatchObject({ kind: 'unreadable', reason: expect.stringContaining('not a record') });
  });
});

describe('startEvalRun and discardEvalOutputs', () => {
  it('remove the files eval writes and nothing else', async () => {
    for (const file of EVAL_OUTPUT_FILES) await writeFile(join(dir, file), 'old\n');
    await writeFile(join(dir, 'notes.txt'), 'mine\n');
    await mkdir(join(dir, 'plots'));
    await startEvalRun(dir, { ...record, settings: { model: 'other' } });
    expect((await readdir(dir)).sort()).toEqual(['eval-run.json', 'notes.txt', 'plots']);
    expect(JSON.parse(await readFile(join(dir, 'eval-run.json'), 'utf8'))).toMatchObject({ settings: { model: 'other' } });
    await discardEvalOutputs(dir);
    expect((await readdir(dir)).sort()).toEqual(['notes.txt', 'plots']);
  });
});
