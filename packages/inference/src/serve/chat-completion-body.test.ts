import { describe, expect, it } from 'vitest';
import { toUtf8Bytes } from './chat-completion-body.js';

describe('toUtf8Bytes', () => {
  it("lists a token's UTF-8 bytes as vLLM does (list(token.encode('utf-8'))), ASCII or not", () => {
    for (const text of ['<answer>', ' (120,340)', '', '\n\n', 'é', '缺陷', 'a😀b', '\u0080']) {
      expect(toUtf8Bytes(text), text).toEqual([...Buffer.from(text, 'utf8')]);
    }
    expect(toUtf8Bytes('缺')).toEqual([0xe7, 0xbc, 0xba]);
  });
});
