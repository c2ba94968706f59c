import { describe, expect, it } from 'vitest';
import { createCliLogger } from './cli-logger.js';
import { createCaptureIo } from './testing/capture-io.js';

describe('createCliLogger', () => {
  it('writes JSON lines to stderr when stderr is not a terminal (a file, a pipe, a container log)', () => {
    const io = createCaptureIo({ interactive: false });
    createCliLogger({}, io, 'worker').warn({ run: 'r1', step: 3, code: 'SYNC_FAILED' }, 'weight sync failed');
    expect(io.out).toBe('');
    expect(JSON.parse(io.err)).toMatchObject({
      level: 'warn',
      name: 'worker',
      run: 'r1',
      step: 3,
      code: 'SYNC_FAILED',
      msg: 'weight sync failed',
    });
  });

  it('writes a readable, coloured line at a terminal, without colour under NO_COLOR', () => {
    const tty = createCaptureIo({ interactive: true });
    createCliLogger({}, tty, 'train').info({ run: 'r1' }, 'Redis: redis://127.0.0.1:6379 (embedded)');
    expect(tty.err).toContain('\u001b[32mINFO \u001b[0m Redis: redis://127.0.0.1:6379 (embedded) ');
    expect(tty.err).toMatch(/^\d\d:\d\d:\d\d\.\d{3} .*=r1\n$/);
    const noColor = createCaptureIo({ interactive: true, env: { NO_COLOR: '1' } });
    createCliLogger({}, noColor, 'train').info({ run: 'r1' }, 'Redis up');
    expect(noColor.err).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}Redis up run=r1\n$/);
  });

  it('takes the level and format from the flags first, then DIFFERAD_LOG_LEVEL and DIFFERAD_LOG_FORMAT', () => {
    const io = createCaptureIo({ interactive: true, env: { DIFFERAD_LOG_LEVEL: 'error', DIFFERAD_LOG_FORMAT: 'json' } });
    const fromEnv = createCliLogger({}, io, 'api');
    fromEnv.warn('hidden');
    fromEnv.error('shown');
    expect(
      io.err
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(['shown']);
    const flags = createCaptureIo({ interactive: false, env: { DIFFERAD_LOG_LEVEL: 'error' } });
    createCliLogger({ logLevel: 'debug', logFormat: 'pretty' }, flags, 'api').debug('a debug line');
    expect(flags.err).toMatch(/DEBUG a debug line\n$/);
  });

  it('refuses a wrong DIFFERAD_LOG_LEVEL, naming it', () => {
    expect(() => createCliLogger({}, createCaptureIo({ env: { DIFFERAD_LOG_LEVEL: 'loud' } }), 'worker')).toThrow(/DIFFERAD_LOG_LEVEL/);
  });
});
