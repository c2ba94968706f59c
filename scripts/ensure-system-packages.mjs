// Makes sure the Debian packages the tests and the demo need are present:
// installs exactly the missing ones with apt-get when running as root,
// otherwise prints the one command to run and exits 1.
// Usage: node scripts/ensure-system-packages.mjs <need>...
// Needs: redis (redis-server), chromium, docker-compose, python-trainer (Debian's PyTorch, FastAPI, uvicorn,
// pytest, numpy and httpx under /usr/bin/python3, for docker/trainer's tests), python-venv (the venv module
// of the python3 on PATH, which the live vLLM and schemathesis suites make their venvs with), prometheus
// (promtool, which lints the metrics exposition and the scrape config, and the prometheus server).
// Tools are looked up on PATH, so a test can hide them and put a recording apt-get in their place.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NEEDS = {
  redis: { what: 'redis-server', commands: ['redis-server'], packages: ['redis-server'] },
  chromium: { what: 'Chromium (the dashboard test)', commands: ['chromium'], packages: ['chromium'] },
  'docker-compose': { what: 'docker-compose (compose validation)', commands: ['docker-compose'], packages: ['docker-compose'] },
  prometheus: { what: 'Prometheus and promtool (the metrics tests)', commands: ['prometheus', 'promtool'], packages: ['prometheus'] },
  'python-trainer': {
    what: "Python packages for the trainer's tests",
    // Debian's python3, not a pyenv one earlier on PATH: the python3-* packages install there.
    probe: ['/usr/bin/python3', '-c', 'import torch, fastapi, uvicorn, pytest, numpy, httpx'],
    packages: ['python3-torch', 'python3-fastapi', 'python3-uvicorn', 'python3-pytest', 'python3-numpy', 'python3-httpx'],
  },
  'python-venv': {
    what: 'the python3 venv module (the live vLLM and schemathesis suites)',
    // Debian's python3 ships venv without ensurepip until python3-venv is installed.
    probe: ['python3', '-c', 'import ensurepip, venv'],
    packages: ['python3-venv'],
  },
};

/** Whether an executable named `name` is on PATH (what `command -v` answers, without a shell). */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

function satisfied(need) {
  if (need.commands) return need.commands.every(onPath);
  return spawnSync(need.probe[0], need.probe.slice(1), { stdio: 'ignore' }).status === 0;
}

const names = process.argv.slice(2);
const unknown = names.filter((name) => !(name in NEEDS));
if (unknown.length > 0) {
  console.error(`ensure-system-packages: unknown need ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${Object.keys(NEEDS).join(', ')}`);
  process.exit(1);
}
const missing = names.map((name) => NEEDS[name]).filter((need) => !satisfied(need));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.flatMap((need) => need.packages))];
const what = missing.map((need) => need.what).join(', ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  const why = isRoot ? 'apt-get is not on PATH' : 'not running as root';
  console.error(`differad needs ${what} (${why}). Install with:\n  sudo apt-get install -y ${packages.join(' ')}`);
  process.exit(1);
}

console.error(`differad needs ${what}: installing ${packages.join(' ')} with apt-get …`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', '--no-install-recommends', ...packages],
]) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal}); install ${packages.join(' ')} by hand`);
    process.exit(1);
  }
}
const stillMissing = missing.filter((need) => !satisfied(need));
if (stillMissing.length > 0) {
  console.error(`apt-get finished but ${stillMissing.map((need) => need.what).join(', ')} is still missing`);
  process.exit(1);
}
console.error(`installed ${packages.join(' ')}`);
