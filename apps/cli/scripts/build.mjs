// Builds the compiled CLI into apps/cli/dist: one ESM bundle of apps/cli and
// the @differad/* workspaces it imports, split at each command's dynamic
// import so a run loads only its command. Third-party packages stay external
// (imported from node_modules at run time). Outputs are flat in dist/, so a
// `new URL('./synth-worker.js', import.meta.url)` in any chunk finds the
// worker entry beside it, as it finds the tsx shim beside the sources.
//
//   node apps/cli/scripts/build.mjs              # build (npm run build)
//   node apps/cli/scripts/build.mjs --if-stale   # build only when dist is missing or older than a source
//
// The new build is written to a temporary folder and renamed into place, so a
// `differad` starting meanwhile runs the old build or the sources, never a half-written one.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUILD_INPUTS, checkDist, DIST, ROOT } from '../bin/dist-status.js';

/** Entry points, by output name: the CLI, and each file Node starts on its own (worker threads). */
const ENTRIES = {
  main: 'apps/cli/src/main.ts',
  'synth-worker': 'apps/cli/src/synth/synth-worker.ts',
};
/** Files that change the output without being bundled: a change to them makes dist stale too. */
const BUILD_FILES = ['apps/cli/scripts/build.mjs'];

/** Keeps bare imports other than @differad/* external: node_modules is there at run time. */
const externalThirdParty = {
  name: 'external-third-party',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@differad/') ? undefined : { path: args.path, external: true }));
  },
};

/** Names every `new URL('./x', import.meta.url)` in the outputs whose file is not among them. */
function findMissingRelativeFiles(dir) {
  const files = new Set(readdirSync(dir));
  const missing = [];
  for (const file of files) {
    if (!file.endsWith('.js')) continue;
    for (const [, target] of readFileSync(`${dir}/${file}`, 'utf8').matchAll(
      /new URL\(\s*["']\.\/([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
    )) {
      if (!files.has(target)) missing.push(`${file} → ./${target}`);
    }
  }
  return missing;
}

/** Builds dist; returns the number of files written. */
async function buildDist() {
  const root = fileURLToPath(ROOT);
  const dist = fileURLToPath(DIST).replace(/\/$/, '');
  const temp = `${dist}.building-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  const startedAtMs = Date.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir: temp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [externalThirdParty],
  });
  const missing = findMissingRelativeFiles(temp);
  if (missing.length > 0) {
    rmSync(temp, { recursive: true, force: true });
    throw new Error(`a file located relative to its module is not in the build (add it to ENTRIES): ${missing.join(', ')}`);
  }
  const inputs = Object.keys(result.metafile.inputs).filter((file) => !file.includes('node_modules/'));
  writeFileSync(`${temp}/${BUILD_INPUTS}`, `${JSON.stringify({ startedAtMs, inputs: [...BUILD_FILES, ...inputs] }, null, 1)}\n`);
  const old = `${dist}.old-${process.pid}`;
  // Another build may swap its own dist in between: retry until ours is in place.
  for (let attempt = 0; ; attempt++) {
    try {
      if (existsSync(dist)) renameSync(dist, old);
      renameSync(temp, dist);
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  }
  return readdirSync(dist).length;
}

const ifStale = process.argv.includes('--if-stale');
const before = checkDist();
if (!ifStale || before.kind !== 'fresh') {
  const started = Date.now();
  const files = await buildDist();
  const why = before.kind === 'stale' ? ` (${before.file} changed)` : '';
  console.log(`built apps/cli/dist in ${Date.now() - started} ms: ${files} files${why}`);
}
