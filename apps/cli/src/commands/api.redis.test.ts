import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaptureIo } from '../testing/capture-io.js';
import { runApiCommand } from './api.js';

let cwd: string;
let elsewhere: string;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'differad-api-cwd-'));
  elsewhere = mkdtempSync(join(tmpdir(), 'differad-api-abs-'));
});
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

describe('differad api path options', () => {
  it('writes the generated token under an absolute --state-dir, not below the working directory', async () => {
    const io = createCaptureIo({ env: { PATH: process.env.PATH }, cwd });
    const stateDir = join(elsewhere, 'state');
    const opts = {
      host: '127.0.0.1',
      port: 0,
      dataRoot: [join(elsewhere, 'data')],
      runsDir: join(elsewhere, 'runs'),
      stateDir,
      bodyLimit: 1024 * 1024,
      heartbeatMs: 15_000,
    };
    // The stop signal has come already: the API starts, reports where its token is, and stops.
    expect(await runApiCommand(opts, io, Promise.resolve('SIGTERM'))).toBe(0);
    const tokenFile = join(stateDir, 'api-token');
    expect(io.out).toContain(`token generated and written to ${tokenFile}`);
    expect(readFileSync(tokenFile, 'utf8').trim()).not.toBe('');
    expect(existsSync(join(elsewhere, 'runs', '.redis'))).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
