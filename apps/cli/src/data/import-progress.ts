import type { ImportProgress } from '@differad/datasets';
import type { CliIo } from '../cli-io.js';

/** Items between two progress lines when stderr is not a terminal. */
export const PROGRESS_EVERY = 100;

/**
 * Import progress on stderr: on a terminal one line redrawn in place (at most
 * every 100 ms), otherwise a plain line every `every` items and at the end of
 * each phase, so logs stay readable.
 */
export function createImportProgress(io: CliIo, label: string, every = PROGRESS_EVERY, now: () => number = () => performance.now()): { report: ImportProgress; done(): void } {
  let lastDraw = -Infinity;
  let drawn = false;
  const report: ImportProgress = (phase, done, total) => {
    const text = `${label} ${phase}: ${done}/${total}`;
    if (io.interactive) {
      const t = now();
      if (t - lastDraw < 100 && done < total) return;
      lastDraw = t;
      drawn = true;
      io.stderr(`\r\x1b[2K${text}`);
      return;
    }
    if (done % every === 0 || done === total) io.stderr(`${text}\n`);
  };
  return {
    report,
    done: () => {
      if (io.interactive && drawn) io.stderr('\n');
    },
  };
}
