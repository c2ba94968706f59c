#!/usr/bin/env bash
# The Python trainer's test suite (tiny backend, CPU, ~20 s). Run from anywhere; CI calls it.
# Needs Debian's python3-torch python3-fastapi python3-uvicorn python3-pytest python3-numpy python3-httpx
# under /usr/bin/python3 (a pyenv python3 on PATH does not have them).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1
# Arguments go to pytest: npm test (scripts/run-tests.mjs) passes --junitxml=<file> for its closing "N passed, N failed" line.
exec /usr/bin/python3 -m pytest -q docker/trainer/tests "$@"
