import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAX_RSS = fileURLToPath(new URL('./max-rss.mjs', import.meta.url));

/** What one child run did: its exit code, peak RSS, wall time, the summary it printed and the end of its stderr. */
export interface RssRun {
  readonly code: number | null;
  readonly maxRssMb: number | null;
  readonly seconds: number;
  /** The JSON summary it printed on stdout (`--json`), re-serialized, or null. */
  readonly summary: string | null;
  /** `input.samples` of that summary, or null. */
  readonly samples: number | null;
  readonly stderrTail: string;
}

/**
 * Runs `node [--max-old-space-size=heapMb] <argv>` with max-rss.mjs loaded,
 * which prints the process's peak RSS on exit, and reads it with the JSON
 * summary the child printed.
 */
export function runWithMaxRss(argv: readonly string[], options: { heapMb?: number | null; tailLines?: number } = {}): Promise<RssRun> {
  const t0 = performance.now();
  const heap = options.heapMb == null ? [] : [`--max-old-space-size=${options.heapMb}`];
  const child = spawn(process.execPath, [...heap, '--import', MAX_RSS, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const rss = /max-rss-kb (\d+)/.exec(stderr);
      let summary: string | null = null;
      let samples: number | null = null;
      try {
        const parsed = JSON.parse(stdout) as { input: { samples: number } };
        summary = JSON.stringify(parsed);
        samples = parsed.input.samples;
      } catch {
        // No summary: the exit code and stderr say why.
      }
      resolve({
        code,
        maxRssMb: rss ? Number(rss[1]) / 1024 : null,
        seconds: (performance.now() - t0) / 1000,
        summary,
        samples,
        stderrTail: stderr
          .replace(/\nmax-rss-kb \d+\n$/, '')
          .split('\n')
          .slice(-(options.tailLines ?? 6))
          .join('\n'),
      });
    });
  });
}
