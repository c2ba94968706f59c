// Makes the Python environment of the schemathesis suite (test/schemathesis): a venv outside the
// repository with every package of scripts/requirements-schemathesis.txt, pinned and installed
// with --no-deps in one pip call (~40 MiB, ~15 s from PyPI). Idempotent as scripts/python-venv.mjs
// (both are scripts/pinned-venv.mjs): a stamp in the venv holds the hash of the requirements and
// the Python version, and a venv whose stamp matches and whose schemathesis answers is left as it
// is (~0.3 s).
//
// Usage: node scripts/schemathesis-venv.mjs [--print-st] [--force]
//   DIFFERAD_SCHEMATHESIS_VENV  the venv (default ~/.cache/differad/venv-schemathesis)
//   DIFFERAD_PYTHON             the interpreter that creates it (default python3; 3.11 or newer)
// --print-st prints only the venv's `st` path on stdout (progress goes to stderr).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePinnedVenv } from './pinned-venv.mjs';

ensurePinnedVenv({
  tag: 'schemathesis-venv',
  printFlag: '--print-st',
  requirements: 'scripts/requirements-schemathesis.txt',
  venv: resolve(process.env.DIFFERAD_SCHEMATHESIS_VENV || join(homedir(), '.cache', 'differad', 'venv-schemathesis')),
  python: { min: 11, why: 'schemathesis 4 needs Python 3.11 or newer' },
  bin: 'st',
  quickProbe: { argv: ['--version'], missing: 'stamp matches but st does not answer: reinstalling' },
  fullProbe: { argv: ['--version'], failed: (st) => `installed, but "${st} --version" fails` },
});
