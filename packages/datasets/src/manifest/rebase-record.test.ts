import { describe, expect, it } from 'vitest';
import { rebaseManifestRecord } from './rebase-record.js';

describe('rebaseManifestRecord', () => {
  const record = {
    id: 'a',
    class: 'open',
    reference: 'images/a-r.png',
    target: '../raw/a.png',
    width: 8,
    height: 8,
    box: null,
    mask: 'masks/a.png',
    reference_resized: { from: 'n.png', width: 9, height: 9, fit: 'cover' as const, crop: [0, 0, 8, 8] as const },
    references_topk: [{ path: 'n.png', similarity: 1 }],
    source: { reference: '/abs/t.jpg', target: 'g/1_test.jpg', crop: [0, 0, 8, 8] },
  };

  it('rewrites every path field so it names the same file from the new folder; absolute paths stay', () => {
    const moved = rebaseManifestRecord(record, '/d/data', '/d/data/splits');
    expect(moved).toMatchObject({
      reference: '../images/a-r.png',
      target: '../../raw/a.png',
      mask: '../masks/a.png',
      reference_resized: { from: '../n.png', crop: [0, 0, 8, 8] },
      references_topk: [{ path: '../n.png', similarity: 1 }],
      source: { reference: '/abs/t.jpg', target: '../g/1_test.jpg', crop: [0, 0, 8, 8] },
      id: 'a',
      box: null,
    });
  });

  it('returns the record as it is when the folder does not change', () => {
    expect(rebaseManifestRecord(record, '/d/data', '/d/data/')).toBe(record);
  });
});
