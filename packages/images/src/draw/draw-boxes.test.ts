import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../decode/decode-image.js';
import { writeRawImage } from '../encode/write-image.js';
import { createSolidImage, createTempDir, pixelAt } from '../test-support/image-fixtures.js';
import { renderContactSheet, writeContactSheet } from './contact-sheet.js';
import { BOX_COLORS, drawBoxes, writeAnnotatedImage } from './draw-boxes.js';
import { renderPairPreview, writePairPreview } from './pair-preview.js';
import { overlayText } from './text-overlay.js';

let dir = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, remove } = await createTempDir()));
afterAll(() => remove());

const GREY: [number, number, number] = [128, 128, 128];

describe('drawBoxes', () => {
  it('draws ground truth green and predictions red on the box edges, leaving the inside alone', async () => {
    const image = createSolidImage(200, 150, GREY);
    const out = await drawBoxes(
      image,
      [
        { box: [20, 30, 80, 90], kind: 'gt', label: 'gt' },
        { box: [100, 40, 180, 120], kind: 'pred', label: 'pred 0.87' },
      ],
      { lineWidth: 2 },
    );
    expect([out.width, out.height, out.channels]).toEqual([200, 150, 3]);
    for (const [x, y] of [
      [20, 60],
      [79, 60],
      [50, 30],
      [50, 89],
      [21, 31],
    ] as const)
      expect(pixelAt(out, x, y)).toEqual([...BOX_COLORS.gt]);
    for (const [x, y] of [
      [100, 80],
      [179, 80],
      [140, 41],
      [140, 119],
    ] as const)
      expect(pixelAt(out, x, y)).toEqual([...BOX_COLORS.pred]);
    expect(pixelAt(out, 50, 60)).toEqual(GREY);
    expect(pixelAt(out, 140, 80)).toEqual(GREY);
    expect(pixelAt(out, 5, 140)).toEqual(GREY);
    expect(pixelAt(image, 20, 60)).toEqual(GREY); // the input is not modified
  });

  it('skips empty boxes, clips boxes at the border and converts grey input to RGB', async () => {
    const grey = { data: new Uint8Array(40 * 30).fill(90), width: 40, height: 30, channels: 1 as const };
    const out = await drawBoxes(grey, [{ box: [0, 0, 0, 0] }, { box: [30, 20, 60, 50], kind: 'pred' }], { lineWidth: 1 });
    expect(out.channels).toBe(3);
    expect(pixelAt(out, 30, 25)).toEqual([...BOX_COLORS.pred]);
    expect(pixelAt(out, 0, 0)).toEqual([90, 90, 90]);
  });

  it('keeps the picture when text cannot be rendered', async () => {
    const image = createSolidImage(20, 10, GREY);
    const weird = await overlayText(image, [{ x: 0, y: 0, text: 'a\u0000<b>&"', fontSize: 8 }]);
    expect([weird.width, weird.height, weird.channels]).toEqual([20, 10, 3]);
  });

  it('writes an annotated file of the source size', async () => {
    const input = join(dir, 'plain.png');
    await writeRawImage(input, createSolidImage(64, 48, GREY));
    await writeAnnotatedImage(input, [{ box: [8, 8, 40, 40], kind: 'gt' }], join(dir, 'annotated.png'), { lineWidth: 2 });
    const out = await decodeImage(join(dir, 'annotated.png'));
    expect([out.width, out.height]).toEqual([64, 48]);
    expect(pixelAt(out, 8, 20)).toEqual([...BOX_COLORS.gt]);
  });
});

describe('pair previews and contact sheets', () => {
  it('puts reference | target side by side with the boxes on the target', async () => {
    const reference = createSolidImage(100, 80, [200, 200, 200]);
    const target = createSolidImage(120, 90, [60, 60, 60]);
    const out = await renderPairPreview(reference, target, {
      boxes: [
        { box: [10, 10, 50, 50], kind: 'gt' },
        { box: [60, 20, 110, 70], kind: 'pred' },
      ],
      title: 'screw-0007',
      gap: 10,
      fontSize: 12,
      lineWidth: 2,
    });
    const top = 2 * (12 + 8);
    expect([out.width, out.height]).toEqual([100 + 10 + 120, top + 90]);
    expect(pixelAt(out, 50, top + 40)).toEqual([200, 200, 200]);
    expect(pixelAt(out, 110 + 10, top + 30)).toEqual([...BOX_COLORS.gt]);
    expect(pixelAt(out, 110 + 109, top + 40)).toEqual([...BOX_COLORS.pred]);
    expect(pixelAt(out, 110 + 30, top + 30)).toEqual([60, 60, 60]);
    await writePairPreview(reference, target, join(dir, 'preview.jpg'), { boxes: [] });
    expect((await decodeImage(join(dir, 'preview.jpg'))).width).toBe(100 + 8 + 120);
  });

  it('lays tiles on a grid with captions and scales each tile’s boxes', async () => {
    const tiles = [0, 1, 2, 3, 4].map((i) => ({
      image: createSolidImage(200, 100, [i * 40, 100, 100]),
      caption: `tile ${i}`,
      boxes: [{ box: [0, 0, 200, 100] as const, kind: 'pred' as const }],
    }));
    const out = await renderContactSheet(tiles, { columns: 3, tileWidth: 100, tileHeight: 100, gap: 4, fontSize: 10, lineWidth: 1 });
    const cellH = 100 + 16;
    expect([out.width, out.height]).toEqual([4 + 3 * 104, 4 + 2 * (cellH + 4)]);
    // Tile 0 is scaled to 100×50 and centred vertically: its outline starts at (4, 4 + 25).
    expect(pixelAt(out, 4, 4 + 40)).toEqual([...BOX_COLORS.pred]);
    expect(pixelAt(out, 4 + 50, 4 + 25)).toEqual([...BOX_COLORS.pred]);
    expect(pixelAt(out, 4 + 50, 4 + 40)).toEqual([0, 100, 100]);
    const path = join(dir, 'sheet.png');
    await writeContactSheet(tiles, path, { tileWidth: 64 });
    expect((await decodeImage(path)).width).toBe(6 + 3 * (64 + 6));
  });
});
