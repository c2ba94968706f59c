#!/usr/bin/env node
// Entry point of the `differad` command. Runs the compiled CLI in ../dist
// (`npm run build`, which `npm ci` runs) when it is as new as every source file
// it was built from. Otherwise, or with DIFFERAD_FROM_SOURCE=1, it runs the
// TypeScript sources through tsx: slower to start, never out of date. A build
// older than the sources is never run; it says so on stderr. No build at all
// (the orchestrator image, `npm ci --ignore-scripts`) runs the sources quietly.
import { checkDist } from './dist-status.js';

const dist = process.env.DIFFERAD_FROM_SOURCE === '1' ? { kind: 'source' } : checkDist();
if (dist.kind === 'stale') {
  process.stderr.write(
    `differad: ${dist.file} changed after the last build, running the TypeScript sources (slower start; npm run build makes it fast again)\n`,
  );
}
const { main } = dist.kind === 'fresh' ? await import('../dist/main.js') : await importSources();
const code = await main(process.argv);
process.exitCode = code;
// A finished command exits even if a client library left an idle keep-alive
// socket open; the timer does not itself keep the process alive.
setTimeout(() => process.exit(code), 500).unref();

async function importSources() {
  const { register } = await import('tsx/esm/api');
  register();
  return import('../src/main.ts');
}
