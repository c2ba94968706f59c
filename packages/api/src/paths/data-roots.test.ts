import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DifferadError, isDifferadError } from '@differad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataRoots, type DataRoots } from './data-roots.js';

let dir: string;
let roots: DataRoots;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-roots-'));
  await mkdir(join(dir, 'data', 'set'), { recursive: true });
  await mkdir(join(dir, 'outside'), { recursive: true });
  await writeFile(join(dir, 'data', 'set', 'm.jsonl'), '');
  await writeFile(join(dir, 'outside', 'secret.jsonl'), '');
  await symlink(join(dir, 'outside'), join(dir, 'data', 'escape'));
  await symlink(join(dir, 'outside', 'secret.jsonl'), join(dir, 'data', 'set', 'link.jsonl'));
  await symlink(join(dir, 'data', 'set'), join(dir, 'data', 'alias'));
  roots = await createDataRoots(['data', join(dir, 'extra')], dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as DifferadError,
  );

describe('data roots', () => {
  it('resolves relative paths from the first root and follows links that stay inside', async () => {
    expect(await roots.resolve('set/m.jsonl', 'manifest')).toBe(join(roots.roots[0]!, 'set', 'm.jsonl'));
    expect(await roots.resolve('alias/m.jsonl', 'manifest')).toBe(join(roots.roots[0]!, 'set', 'm.jsonl'));
    expect(await roots.resolve(join(dir, 'extra', 'new', 'out'), 'out', { mustExist: false })).toBe(join(roots.roots[1]!, 'new', 'out'));
  });

  it('refuses paths outside every root: by .., absolute, through a linked folder or a linked file', async () => {
    for (const path of [
      '../outside/secret.jsonl',
      join(dir, 'outside', 'secret.jsonl'),
      'escape/secret.jsonl',
      'set/link.jsonl',
      '/etc/hostname',
    ]) {
      const error = await failure(roots.resolve(path, 'config.data.train'));
      expect(isDifferadError(error, 'API_PATH_OUTSIDE_DATA_ROOTS'), path).toBe(true);
      expect(error?.details.field).toBe('config.data.train');
    }
    expect(
      isDifferadError(await failure(roots.resolve('escape/new-dir', 'out', { mustExist: false })), 'API_PATH_OUTSIDE_DATA_ROOTS'),
    ).toBe(true);
  });

  it('names a missing file without saying anything about paths outside', async () => {
    const missing = await failure(roots.resolve('set/none.jsonl', 'manifest'));
    expect(isDifferadError(missing, 'API_REQUEST_INVALID')).toBe(true);
    expect(missing?.details.fields).toEqual([{ field: 'manifest', message: 'no such file or folder' }]);
    expect(isDifferadError(await failure(roots.resolve('../outside/none.jsonl', 'manifest')), 'API_PATH_OUTSIDE_DATA_ROOTS')).toBe(true);
  });
});
