// The shared body of scripts/python-venv.mjs and scripts/schemathesis-venv.mjs: makes a venv
// outside the repository with every package of a requirements file, pinned and installed with
// --no-deps in one pip call. Idempotent: a stamp in the venv holds the hash of the requirements
// and the Python version, and a venv whose stamp matches and whose quick probe answers is left
// as it is. Progress goes to stderr, each line prefixed with `tag`; the printed path (with
// `printFlag`) alone goes to stdout. Exits 2 on an unknown argument, 1 on any failure.
//   DIFFERAD_PYTHON  the interpreter that creates the venv (default python3)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {object} o
 * @param {string} o.tag  the script's name (scripts/<tag>.mjs), the prefix of its stderr lines
 * @param {string} o.printFlag  the flag that prints `bin`'s path on stdout (--print-python, --print-st)
 * @param {string} o.requirements  the requirements file, relative to the repository root
 * @param {string} o.venv  the venv's absolute path
 * @param {{ min: number, max?: number, why: string }} o.python  the Python 3 minors accepted, and the message when not
 * @param {string} o.bin  the executable in the venv's bin/ that is probed and printed
 * @param {{ argv: string[], missing: string }} o.quickProbe  `bin` argv when the stamp matches; the log line when it fails
 * @param {{ argv: string[], failed: (bin: string) => string }} o.fullProbe  `bin` argv after an install; the log line when it fails
 * @param {string} [o.label]  put before the probe's output in the "up to date"/"ready" lines
 * @param {string} [o.installNote]  logged before pip runs
 * @param {string[]} [o.argv]  the arguments (default process.argv.slice(2))
 */
export function ensurePinnedVenv({
  tag,
  printFlag,
  requirements,
  venv,
  python: range,
  bin: binName,
  quickProbe,
  fullProbe,
  label = '',
  installNote,
  argv = process.argv.slice(2),
}) {
  const requirementsPath = join(root, requirements);
  const basePython = process.env.DIFFERAD_PYTHON || 'python3';
  const python = join(venv, 'bin', 'python');
  const bin = join(venv, 'bin', binName);
  const stampPath = join(venv, '.differad-requirements.sha256');

  const args = new Set(argv);
  const unknown = [...args].filter((a) => a !== printFlag && a !== '--force');
  if (unknown.length > 0) {
    console.error(`${tag}: unknown argument ${unknown.join(' ')}; usage: node scripts/${tag}.mjs [${printFlag}] [--force]`);
    process.exit(2);
  }

  const log = (line) => console.error(`${tag}: ${line}`);

  // `hint`: the likely cause, on the last line (npm test shows that line as why the suite did not run).
  function run(cmd, cmdArgv, what, hint) {
    const started = Date.now();
    const r = spawnSync(cmd, cmdArgv, {
      stdio: ['ignore', 2, 2],
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' },
    });
    if (r.error || r.status !== 0) {
      log(`${what} failed (${r.error ? r.error.message : `exit ${r.status}`}): ${cmd} ${cmdArgv.join(' ')}`);
      if (hint) log(hint);
      process.exit(1);
    }
    log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  function capture(cmd, cmdArgv) {
    const r = spawnSync(cmd, cmdArgv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return r.status === 0 ? r.stdout.trim() : undefined;
  }

  function done(what) {
    log(what);
    if (args.has(printFlag)) console.log(bin);
    return bin;
  }

  const version = capture(basePython, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
  if (!version) {
    log(`no Python at "${basePython}" (set DIFFERAD_PYTHON)`);
    process.exit(1);
  }
  const [major, minor] = version.split('.').map(Number);
  if (major !== 3 || minor < range.min || (range.max !== undefined && minor > range.max)) {
    log(`${range.why}; ${basePython} is ${version} (set DIFFERAD_PYTHON)`);
    process.exit(1);
  }
  const stamp = createHash('sha256').update(readFileSync(requirementsPath)).update(`python ${version}\n`).digest('hex');

  const current = existsSync(stampPath) ? readFileSync(stampPath, 'utf8').trim() : '';
  if (!args.has('--force') && current === stamp && existsSync(bin)) {
    const probed = capture(bin, quickProbe.argv);
    if (probed) return done(`up to date: ${venv} (${label}${probed})`);
    log(quickProbe.missing);
  }

  if (existsSync(python)) {
    const venvVersion = capture(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
    if (venvVersion !== version) {
      log(`the venv's Python is ${venvVersion ?? 'broken'}, not ${version}: making it anew`);
      rmSync(venv, { recursive: true, force: true });
    }
  }
  if (!existsSync(python)) {
    run(
      basePython,
      ['-m', 'venv', venv],
      `python${version} -m venv ${venv}`,
      `cannot make a venv with ${basePython}: on Debian/Ubuntu install python3-venv (or set DIFFERAD_PYTHON)`,
    );
  }
  rmSync(stampPath, { force: true });
  // One resolver-free install of exact pins: pip upgrades, downgrades or keeps each as needed.
  if (installNote) log(installNote);
  const index = process.env.PIP_INDEX_URL || 'https://pypi.org/simple';
  run(
    python,
    ['-m', 'pip', 'install', '--quiet', '--no-deps', '-r', requirementsPath],
    `pip install --no-deps -r ${requirements}`,
    `could not install the pinned packages from ${index}: is the package index reachable from here? pip's errors are above`,
  );
  const probed = capture(bin, fullProbe.argv);
  if (!probed) {
    log(fullProbe.failed(bin));
    process.exit(1);
  }
  writeFileSync(stampPath, `${stamp}\n`);
  return done(`ready: ${venv} (${label}${probed})`);
}
