import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REQUEST_ID_HEADER_MAX, toRequestIdHeader } from './request-id-header.js';

/** What undici and every HTTP/1.1 parser accept in a header value without question: visible ASCII. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

describe('toRequestIdHeader', () => {
  it('keeps ids of letters, digits, ".", "_" and "-" as they are', () => {
    for (const id of ['eval-pair-01', 'run_1-s3-p0-a2', 'control-7', 'health', 'v1.2']) expect(toRequestIdHeader(id)).toBe(id);
  });

  it('percent-encodes the UTF-8 of anything else, "%" and "~" included', () => {
    expect(toRequestIdHeader('缺陷-0001')).toBe('%E7%BC%BA%E9%99%B7-0001');
    expect(toRequestIdHeader('id with\nnewline')).toBe('id%20with%0Anewline');
    expect(toRequestIdHeader('🔥')).toBe('%F0%9F%94%A5');
    expect(toRequestIdHeader('50%~')).toBe('50%25%7E');
  });

  it('bounds a long id to a prefix, "~" and a hash, cutting no escape in two', () => {
    const long = `${'長'.repeat(299)}x`;
    const header = toRequestIdHeader(long);
    expect(header.length).toBeLessThanOrEqual(REQUEST_ID_HEADER_MAX);
    expect(header).toMatch(/^(%[0-9A-F]{2})+~[0-9a-f]{32}$/);
    expect(toRequestIdHeader(`${'長'.repeat(299)}y`)).not.toBe(header);
  });

  it('tells a lone surrogate from the replacement character it would encode as', () => {
    expect(toRequestIdHeader('a\ud800')).not.toBe(toRequestIdHeader('a\ufffd'));
    expect(toRequestIdHeader('a\ud800')).toMatch(VISIBLE_ASCII);
  });

  it('gives any text a short visible-ASCII header, distinct for distinct ids', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), (a, b) => {
        const ha = toRequestIdHeader(a);
        if (a !== '') expect(ha).toMatch(VISIBLE_ASCII);
        expect(ha.length).toBeLessThanOrEqual(REQUEST_ID_HEADER_MAX);
        if (a !== b) expect(toRequestIdHeader(b)).not.toBe(ha);
      }),
      { numRuns: 200 },
    );
  });
});
