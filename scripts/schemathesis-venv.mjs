// Makes the Python environment of the schemathesis suite (test/schemathesis): a venv outside the
// repository with every package of scripts/requirements-schemathesis.txt, pinned and installed
// with --no-deps in one pip call (~40 MiB, ~15 s from PyPI). Idempotent as scripts/python-venv.mjs:
// a stamp in the venv holds the hash of the requirements and the Python version, and a venv whose
// stamp matches and whose schemathesis answers is left as it is (~0.3 s).
//
// Usage: node scripts/schemathesis-venv.mjs [--print-st] [--force]
//   DIFFERAD_SCHEMATHESIS_VENV  the venv (default ~/.cache/differad/venv-schemathesis)
//   DIFFERAD_PYTHON             the interpreter that creates it (default python3; 3.11 or newer)
// --print-st prints only the venv's `st` path on stdout (progress goes to stderr).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requirementsPath = join(root, 'scripts', 'requirements-schemathesis.txt');
const venv = resolve(process.env.DIFFERAD_SCHEMATHESIS_VENV || join(homedir(), '.cache', 'differad', 'venv-schemathesis'));
const basePython = process.env.DIFFERAD_PYTHON || 'python3';
const python = join(venv, 'bin', 'python');
const st = join(venv, 'bin', 'st');
const stampPath = join(venv, '.differad-requirements.sha256');

const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((a) => a !== '--print-st' && a !== '--force');
if (unknown.length > 0) {
  console.error(`schemathesis-venv: unknown argument ${unknown.join(' ')}; usage: node scripts/schemathesis-venv.mjs [--print-st] [--force]`);
  process.exit(2);
}

function log(line) {
  console.error(`schemathesis-venv: ${line}`);
}

// `hint`: the likely cause, on the last line (npm test shows that line as why the suite did not run).
function run(cmd, argv, what, hint) {
  const started = Date.now();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 2, 2], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' } });
  if (r.error || r.status !== 0) {
    log(`${what} failed (${r.error ? r.error.message : `exit ${r.status}`}): ${cmd} ${argv.join(' ')}`);
    if (hint) log(hint);
    process.exit(1);
  }
  log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function capture(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function done(what) {
  log(what);
  if (args.has('--print-st')) console.log(st);
  process.exit(0);
}

const version = capture(basePython, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
if (!version) {
  log(`no Python at "${basePython}" (set DIFFERAD_PYTHON)`);
  process.exit(1);
}
const [major, minor] = version.split('.').map(Number);
if (major !== 3 || minor < 11) {
  log(`schemathesis 4 needs Python 3.11 or newer; ${basePython} is ${version} (set DIFFERAD_PYTHON)`);
  process.exit(1);
}
const stamp = createHash('sha256').update(readFileSync(requirementsPath)).update(`python ${version}\n`).digest('hex');
const current = existsSync(stampPath) ? readFileSync(stampPath, 'utf8').trim() : '';
if (!args.has('--force') && current === stamp && existsSync(st)) {
  const probed = capture(st, ['--version']);
  if (probed) done(`up to date: ${venv} (${probed})`);
  log('stamp matches but st does not answer: reinstalling');
}

if (existsSync(python)) {
  const venvVersion = capture(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
  if (venvVersion !== version) {
    log(`the venv's Python is ${venvVersion ?? 'broken'}, not ${version}: making it anew`);
    rmSync(venv, { recursive: true, force: true });
  }
}
if (!existsSync(python)) {
  run(basePython, ['-m', 'venv', venv], `python${version} -m venv ${venv}`, `cannot make a venv with ${basePython}: on Debian/Ubuntu install python3-venv (or set DIFFERAD_PYTHON)`);
}
rmSync(stampPath, { force: true });
const index = process.env.PIP_INDEX_URL || 'https://pypi.org/simple';
run(python, ['-m', 'pip', 'install', '--quiet', '--no-deps', '-r', requirementsPath], 'pip install --no-deps -r scripts/requirements-schemathesis.txt',
  `could not install the pinned packages from ${index}: is the package index reachable from here? pip's errors are above`);
const probed = capture(st, ['--version']);
if (!probed) {
  log(`installed, but "${st} --version" fails`);
  process.exit(1);
}
writeFileSync(stampPath, `${stamp}\n`);
done(`ready: ${venv} (${probed})`);
