/**
 * Generated boards in DeepPCB's folder layout, for `bench/learning --quick`
 * where no DeepPCB is at hand: binarized 640×640 template/tested pairs of
 * traces and pads, a one-pixel misregistration here and there, and 3–6
 * defects per board drawn smaller than their annotation box (as DeepPCB's
 * annotators box a defect with a margin). They prove the bench runs; they
 * are not DeepPCB and their figures mean nothing beside the paper's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, type Rng } from '@differad/core';
import { encodeRawImage } from '@differad/images';

const SIZE = 640;

function drawBoard(rng: Rng): Uint8Array {
  const px = new Uint8Array(SIZE * SIZE);
  const fill = (x1: number, y1: number, x2: number, y2: number, v: number) => {
    for (let y = Math.max(0, y1); y < Math.min(SIZE, y2); y++) px.fill(v, y * SIZE + Math.max(0, x1), y * SIZE + Math.min(SIZE, x2));
  };
  for (let i = 0; i < 14; i++) {
    const w = 6 + Math.floor(rng.next() * 8);
    const at = Math.floor(rng.next() * SIZE);
    if (rng.next() < 0.5) fill(0, at, SIZE, at + w, 255);
    else fill(at, 0, at + w, SIZE, 255);
  }
  for (let i = 0; i < 30; i++) {
    const x = Math.floor(rng.next() * SIZE);
    const y = Math.floor(rng.next() * SIZE);
    fill(x, y, x + 14, y + 14, 255);
  }
  return px;
}

/** Writes `boards` pairs under `root` (group00001/00001/…, …_not/…txt, trainval.txt). */
export async function writeGeneratedBoards(root: string, boards: number): Promise<void> {
  const rng = createRng('bench-learning-boards');
  const lines: string[] = [];
  for (let b = 0; b < boards; b++) {
    const group = String(1 + (b % 3)).padStart(5, '0');
    const id = `${group}${String(b).padStart(3, '0')}`;
    const template = drawBoard(rng);
    const tested = new Uint8Array(template);
    // A one-pixel misregistration of one half, which a global alignment cannot undo.
    const half = Math.floor(rng.next() * 2) * 320;
    for (let y = 0; y < SIZE; y++) for (let x = SIZE - 1; x > half; x--) tested[y * SIZE + x] = template[y * SIZE + x - 1]!;
    const annotations: string[] = [];
    const taken: [number, number, number, number][] = [];
    const defects = 3 + Math.floor(rng.next() * 4);
    for (let tries = 0; annotations.length < defects && tries < 200; tries++) {
      const size = 6 + Math.floor(rng.next() * 10);
      const x = 30 + Math.floor(rng.next() * (SIZE - 60 - size));
      const y = 30 + Math.floor(rng.next() * (SIZE - 60 - size));
      const margin = 8 + Math.floor(rng.next() * 6);
      const box: [number, number, number, number] = [x - margin, y - margin, x + size + margin, y + size + margin];
      if (taken.some((t) => box[0] < t[2] + 170 && t[0] < box[2] + 170 && box[1] < t[3] + 170 && t[1] < box[3] + 170)) continue;
      taken.push(box);
      const copper = rng.next() < 0.5;
      for (let yy = y; yy < y + size; yy++) tested.fill(copper ? 255 : 0, yy * SIZE + x, yy * SIZE + x + size);
      annotations.push(`${box.join(' ')} ${copper ? 5 : 6}`);
    }
    const images = join(root, `group${group}`, group);
    const notes = join(root, `group${group}`, `${group}_not`);
    mkdirSync(images, { recursive: true });
    mkdirSync(notes, { recursive: true });
    const grey = (data: Uint8Array) => ({ data, width: SIZE, height: SIZE, channels: 1 as const });
    // PNG bytes under DeepPCB's .jpg names keep the pixels exact; the importer sniffs the format.
    writeFileSync(join(images, `${id}_temp.jpg`), await encodeRawImage(grey(template), 'png'));
    writeFileSync(join(images, `${id}_test.jpg`), await encodeRawImage(grey(tested), 'png'));
    writeFileSync(join(notes, `${id}.txt`), `${annotations.join('\n')}\n`);
    lines.push(`group${group}/${group}/${id}.jpg group${group}/${group}_not/${id}.txt`);
  }
  writeFileSync(join(root, 'trainval.txt'), `${lines.join('\n')}\n`);
}
