// Makes sure the Debian packages the tests and the demo need are present:
// installs them with apt-get when missing and running as root, otherwise
// says exactly what to run. Usage: node scripts/ensure-system-packages.mjs <need>...
// Needs: redis (redis-server).
import { spawnSync } from 'node:child_process';

const NEEDS = {
  redis: { command: 'redis-server', packages: ['redis-server'] },
};

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const wanted = process.argv.slice(2).map((name) => {
  const need = NEEDS[name];
  if (!need) throw new Error(`unknown need "${name}"; known: ${Object.keys(NEEDS).join(', ')}`);
  return need;
});
const missing = wanted.filter((n) => !has(n.command));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.flatMap((n) => n.packages))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(`differad needs ${missing.map((n) => n.command).join(', ')}. Install it with:\n  sudo apt-get install -y ${packages.join(' ')}`);
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
