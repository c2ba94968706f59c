import { DifferadError } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { createLineLogger, createLogger, type LogFormat, type LogLevel, resolveLogFormat, toLineSink } from './create-logger.js';
import { toErrorFields } from './error-fields.js';

function capture(level: LogLevel, format: LogFormat, color = false) {
  const lines: string[] = [];
  const logger = createLogger({ level, format, name: 'worker', color, write: (line) => lines.push(line) });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes one JSON line per call with the level label, ISO time, the bound and the given fields', () => {
    const { logger, lines } = capture('info', 'json');
    logger.child({ run: 'r1' }).warn({ step: 3, job: 'r1:3:score:2', slot: 2 }, 'score failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'warn', name: 'worker', run: 'r1', step: 3, job: 'r1:3:score:2', slot: 2, msg: 'score failed' });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(entry.pid).toBe(process.pid);
  });

  it('drops lines below the level, and everything at silent', () => {
    const warn = capture('warn', 'json');
    warn.logger.debug('d');
    warn.logger.info('i');
    warn.logger.warn('w');
    warn.logger.error('e');
    expect(warn.lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['w', 'e']);
    const debug = capture('debug', 'json');
    debug.logger.debug('d');
    debug.logger.trace('t');
    expect(debug.lines).toHaveLength(1);
    const silent = capture('silent', 'json');
    silent.logger.fatal('f');
    expect(silent.lines).toEqual([]);
  });

  it("puts a DifferadError's code at the top and the error under err", () => {
    const { logger, lines } = capture('info', 'json');
    logger.error({ run: 'r1', ...toErrorFields(new DifferadError('SYNC_FAILED', 'the trainer refused step 4')) }, 'step job failed');
    const entry = JSON.parse(lines[0]!) as { code: string; err: { message: string; type: string; stack: string } };
    expect(entry.code).toBe('SYNC_FAILED');
    expect(entry.err).toMatchObject({ type: 'DifferadError', message: 'the trainer refused step 4', code: 'SYNC_FAILED' });
    expect(entry.err.stack).toContain('create-logger.test.ts');
    expect(toErrorFields(new Error('plain'))).not.toHaveProperty('code');
  });

  it('prints a readable line in pretty format: time, level, message, fields, the stack of an error', () => {
    const { logger, lines } = capture('info', 'pretty');
    logger.info({ run: 'r1', step: 2, path: '/v1/runs' }, 'step done');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}step done run=r1 step=2 path=\/v1\/runs\n$/);
    logger.error({ ...toErrorFields(new DifferadError('SYNC_FAILED', 'reload failed on http://a')) }, 'weight sync failed');
    const [head, ...stack] = lines[1]!.trimEnd().split('\n');
    expect(head).toMatch(/ERROR weight sync failed code=SYNC_FAILED err="reload failed on http:\/\/a"$/);
    expect(stack[0]).toMatch(/^ {4}at /);
    expect(lines.join('')).not.toContain('{');
  });

  it('colours the level in pretty format only when asked', () => {
    const plain = capture('info', 'pretty');
    plain.logger.warn('w');
    expect(plain.lines[0]).not.toContain('\u001b[');
    const colored = capture('info', 'pretty', true);
    colored.logger.warn('w');
    expect(colored.lines[0]).toContain('\u001b[33mWARN ');
  });

  it('writes the bare message in plain format, warnings and errors marked', () => {
    const lines: string[] = [];
    const logger = createLineLogger((line) => lines.push(line));
    logger.info({ run: 'r1' }, 'trainer: loaded checkpoint of step 2 (weight version 3)');
    logger.warn({ step: 1 }, 'step 1: 1 server(s) left the pool');
    logger.error('step 4: failed');
    logger.debug('hidden');
    expect(lines).toEqual([
      'trainer: loaded checkpoint of step 2 (weight version 3)',
      'warning: step 1: 1 server(s) left the pool',
      'error: step 4: failed',
    ]);
  });
});

describe('toLineSink', () => {
  it('logs text lines at the level their prefix names, and a plain logger prints them back as they were', () => {
    const { logger, lines } = capture('info', 'json');
    const log = toLineSink(logger.child({ run: 'r1' }));
    log('warning: step 2: a server left the pool');
    log('Redis: redis://127.0.0.1:6379');
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', run: 'r1', msg: 'step 2: a server left the pool' }),
      expect.objectContaining({ level: 'info', run: 'r1', msg: 'Redis: redis://127.0.0.1:6379' }),
    ]);
    const back: string[] = [];
    toLineSink(createLineLogger((line) => back.push(line)))('warning: step 2: a server left the pool');
    expect(back).toEqual(['warning: step 2: a server left the pool']);
  });
});

describe('resolveLogFormat', () => {
  it('is pretty at a terminal and JSON lines otherwise, unless a format is named', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});
