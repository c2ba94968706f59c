// Makes sure the Debian packages the tests and the demo need are present:
// installs them with apt-get when missing and running as root, otherwise
// says exactly what to run. Usage: node scripts/ensure-system-packages.mjs <need>...
// Needs: redis (redis-server), chromium, docker-compose, python-trainer (Debian's PyTorch, FastAPI, uvicorn,
// pytest, numpy and httpx under /usr/bin/python3, for docker/trainer's tests).
import { spawnSync } from 'node:child_process';

const NEEDS = {
  redis: { what: 'redis-server', check: 'command -v redis-server', packages: ['redis-server'] },
  chromium: { what: 'Chromium (the dashboard test)', check: 'command -v chromium', packages: ['chromium'] },
  'docker-compose': { what: 'docker-compose (compose validation)', check: 'command -v docker-compose', packages: ['docker-compose'] },
  'python-trainer': {
    what: "Python packages for the trainer's tests",
    check: "/usr/bin/python3 -c 'import torch, fastapi, uvicorn, pytest, numpy, httpx'",
    packages: ['python3-torch', 'python3-fastapi', 'python3-uvicorn', 'python3-pytest', 'python3-numpy', 'python3-httpx'],
  },
};

function has(need) {
  return spawnSync('sh', ['-c', need.check], { stdio: 'ignore' }).status === 0;
}

const wanted = process.argv.slice(2).map((name) => {
  const need = NEEDS[name];
  if (!need) throw new Error(`unknown need "${name}"; known: ${Object.keys(NEEDS).join(', ')}`);
  return need;
});
const missing = wanted.filter((n) => !has(n));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.flatMap((n) => n.packages))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(`differad needs ${missing.map((n) => n.what).join(', ')}. Install with:\n  sudo apt-get install -y ${packages.join(' ')}`);
  process.exit(1);
}
console.error(`installing ${packages.join(' ')} with apt-get …`);
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed; install ${packages.join(' ')} by hand`);
    process.exit(1);
  }
}
