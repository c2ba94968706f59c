import type { CliIo } from '../cli-io.js';

/** A progress line with count, rate and ETA on stderr: redrawn on a terminal, a line every few seconds otherwise. */
export interface Progress {
  tick(done: number, extra?: string): void;
  finish(extra?: string): void;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function createProgress(io: CliIo, label: string, total: number, now: () => number = () => performance.now()): Progress {
  const started = now();
  let lastDraw = -Infinity;
  let last = 0;
  const line = (done: number, extra?: string) => {
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    return `${label}: ${done}/${total} · ${rate.toFixed(1)}/s · ETA ${formatSeconds(eta)}${extra ? ` · ${extra}` : ''}`;
  };
  return {
    tick(done, extra) {
      last = done;
      const t = now();
      if (io.interactive) {
        if (t - lastDraw < 100 && done < total) return;
        lastDraw = t;
        io.stderr(`\r\x1b[2K${line(done, extra)}`);
      } else if (t - lastDraw >= 5000) {
        lastDraw = t;
        io.stderr(`${line(done, extra)}\n`);
      }
    },
    finish(extra) {
      const elapsed = (now() - started) / 1000;
      const text = `${label}: ${last}/${total} in ${elapsed.toFixed(1)} s (${(last / Math.max(elapsed, 1e-9)).toFixed(1)}/s)${extra ? ` · ${extra}` : ''}`;
      io.stderr(io.interactive ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
  };
}
