/**
 * Rewrites the metric list of README.md ("Monitoring", between the
 * `metrics-table` markers) from the registry's catalog; test/monitoring checks
 * that the two agree. Run from anywhere: `npx tsx packages/metrics/scripts/emit-metrics-table.ts`.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toMetricsTable } from '../src/docs/metrics-table.js';

const START = '<!-- metrics-table:start -->';
const END = '<!-- metrics-table:end -->';
const readme = join(fileURLToPath(new URL('../../../', import.meta.url)), 'README.md');
const text = await readFile(readme, 'utf8');
const from = text.indexOf(START);
const to = text.indexOf(END);
if (from < 0 || to < from) {
  process.stderr.write(`README.md has no ${START} … ${END} section\n`);
  process.exit(1);
}
const tmp = `${readme}.${process.pid}.tmp`;
await writeFile(tmp, `${text.slice(0, from + START.length)}\n${toMetricsTable()}\n${text.slice(to)}`);
await rename(tmp, readme);
process.stdout.write('wrote the metric list of README.md\n');
