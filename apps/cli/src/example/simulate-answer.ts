import { type Box, type Rng, toModelFrame } from '@differad/core';

/**
 * A stand-in model for the example data: answers in the differad format with
 * norm1000 boxes, usually close to the truth, sometimes wrong, empty or
 * malformed, so that every branch of scoring shows up in the demo.
 */
export function simulateAnswer(rng: Rng, gt: Box | null, width: number, height: number): string {
  const roll = rng.next();
  if (roll < 0.05) return 'The target looks different from the reference near the middle.';
  if (roll < 0.08) return '<think>There is a mark.</think><answer>(620,410),(580,450)</answer>';
  const think = gt === null ? 'The target matches the reference everywhere.' : 'The target differs from the reference in one region.';
  if (gt === null) {
    if (rng.next() < 0.8) return `<think>${think}</think><answer>(0,0),(0,0)</answer>`;
    return `<think>A small spot might be a defect.</think><answer>${formatBox(randomBox(rng))}</answer>`;
  }
  const r = rng.next();
  if (r < 0.12) return `<think>${think} It looks acceptable.</think><answer>(0,0),(0,0)</answer>`;
  if (r < 0.25) return `<think>${think}</think><answer>${formatBox(randomBox(rng))}</answer>`;
  const box = toModelFrame(jitter(rng, gt, width, height), 'norm1000', { width, height });
  return `<think>${think} The stain is darker than the surface.</think><answer>${formatBox(box)}</answer>`;
}

function formatBox(b: Box): string {
  return `(${b[0]},${b[1]}),(${b[2]},${b[3]})`;
}

function randomBox(rng: Rng): Box {
  const x1 = rng.int(0, 850);
  const y1 = rng.int(0, 850);
  return [x1, y1, x1 + rng.int(40, 150), y1 + rng.int(40, 150)];
}

function jitter(rng: Rng, gt: Box, width: number, height: number): Box {
  const w = gt[2] - gt[0];
  const h = gt[3] - gt[1];
  const spread = rng.uniform(0.05, 0.6);
  const dx = rng.normal() * w * spread;
  const dy = rng.normal() * h * spread;
  const sx = Math.max(0.4, 1 + rng.normal() * spread);
  const sy = Math.max(0.4, 1 + rng.normal() * spread);
  const cx = (gt[0] + gt[2]) / 2 + dx;
  const cy = (gt[1] + gt[3]) / 2 + dy;
  const x1 = Math.max(0, cx - (w * sx) / 2);
  const y1 = Math.max(0, cy - (h * sy) / 2);
  return [x1, y1, Math.min(width, Math.max(x1 + 1, cx + (w * sx) / 2)), Math.min(height, Math.max(y1 + 1, cy + (h * sy) / 2))];
}
