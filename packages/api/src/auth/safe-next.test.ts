import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NEXT, toSafeNext } from './safe-next.js';

describe('toSafeNext', () => {
  it('keeps a path of this origin, query included', () => {
    for (const next of ['/dashboard', '/dashboard/runs/run-1', '/dashboard/runs/a?x=1&y=%2F', '/docs#top'])
      expect(toSafeNext(next)).toBe(next);
  });

  it('replaces anything that a browser could read as another host', () => {
    const offsite = [
      '/\t/evil.com',
      '/\n/evil.com',
      '/\r\n/evil.com',
      '//evil.com',
      '/\\evil.com',
      '\\/evil.com',
      'https://evil.com',
      'https:/evil.com',
      'javascript:alert(1)',
      'evil.com',
      '',
      ' /x',
      '/%09/evil.com',
      '/%2F/evil.com',
      '/%5Cevil.com',
      '/x\u0000',
      '/a\u2028b',
      '/a\u00a0b',
      '/%E0%A4%A',
      '/x//y',
    ];
    for (const next of offsite) expect(toSafeNext(next), JSON.stringify(next)).toBe(DEFAULT_NEXT);
    expect(toSafeNext(null)).toBe(DEFAULT_NEXT);
    expect(toSafeNext(`/${'a'.repeat(3000)}`)).toBe(DEFAULT_NEXT);
  });

  it('never leaves the origin, whatever the input, even after the browser strips tabs and newlines', () => {
    const base = 'http://api.test';
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('/', '\\', '\t', '\n', '%', '0', '9', '2', 'F', 'e', '.', ':', 'h', ' ', '?', '#', '@') }),
        (next) => {
          const safe = toSafeNext(next);
          // The WHATWG parser removes tab and newlines before parsing: what a browser does with a Location header.
          expect(new URL(safe.replace(/[\t\n\r]/g, ''), base).origin).toBe(base);
          expect(safe.startsWith('/') && !safe.startsWith('//')).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
