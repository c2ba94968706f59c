// The installer behind `npm run demo` and `npm test`, run as a newcomer's
// machine would run it: the tools it looks for hidden from PATH, and a
// recording apt-get stand-in in their place that "installs" a package by
// dropping an executable of the same name next to itself.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/ensure-system-packages.mjs');
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];

interface Machine {
  bin: string;
  log: string;
  /** A world-readable copy of the installer (it imports only node: modules): the unprivileged user cannot read a checkout under a private folder, as `mktemp -d` makes. */
  script: string;
}

/** A PATH holding only `apt-get` (unless `withAptGet` is false) and the given tools. */
function createMachine(opts: { tools?: string[]; withAptGet?: boolean; aptFails?: boolean; aptInstallsNothing?: boolean } = {}): Machine {
  const root = mkdtempSync(join(tmpdir(), 'differad-ensure-'));
  dirs.push(root);
  chmodSync(root, 0o755);
  const bin = join(root, 'bin');
  const log = join(root, 'apt-get.log');
  spawnSync('/bin/mkdir', [bin]);
  chmodSync(bin, 0o777);
  writeFileSync(log, '');
  chmodSync(log, 0o666);
  const script = join(root, 'ensure-system-packages.mjs');
  copyFileSync(SCRIPT, script);
  chmodSync(script, 0o644);
  for (const tool of opts.tools ?? []) writeTool(bin, tool);
  if (opts.withAptGet !== false) {
    const install = opts.aptInstallsNothing
      ? ''
      : `for p in "$@"; do case "$p" in -*|install) ;; *) printf '#!/bin/sh\\nexit 0\\n' > "${bin}/$p"; /bin/chmod +x "${bin}/$p";; esac; done`;
    writeFileSync(
      join(bin, 'apt-get'),
      [
        '#!/bin/sh',
        `echo "$DEBIAN_FRONTEND apt-get $*" >> "${log}"`,
        opts.aptFails ? 'exit 100' : '',
        `[ "$1" = install ] && { ${install || ':'}; }`,
        'exit 0',
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'apt-get'), 0o755);
  }
  return { bin, log, script };
}

function writeTool(bin: string, name: string): void {
  writeFileSync(join(bin, name), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, name), 0o755);
}

/**
 * Runs the installer with PATH = the machine's bin only, as root or as an
 * unprivileged user: setpriv drops root when the test runs as root, and
 * `unshare -r` maps the user to root in a user namespace when it does not.
 */
function runInstaller(machine: Machine, needs: string[], as: 'root' | 'user') {
  const node = [process.execPath, machine.script, ...needs];
  const argv =
    as === 'root'
      ? isRoot
        ? node
        : ['/usr/bin/unshare', '--user', '--map-root-user', ...node]
      : isRoot
        ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...node]
        : node;
  const result = spawnSync(argv[0]!, argv.slice(1), { env: { PATH: machine.bin, HOME: tmpdir() }, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr, aptCalls: readFileSync(machine.log, 'utf8').trim().split('\n').filter(Boolean) };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('ensure-system-packages with the tools hidden from PATH', () => {
  it('as root installs exactly the missing packages with apt-get, non-interactively, and checks them after', () => {
    const machine = createMachine({ tools: ['docker-compose'] });
    const run = runInstaller(machine, ['redis', 'chromium', 'docker-compose'], 'root');
    expect(run.stderr).toContain('installing redis-server chromium with apt-get');
    expect(run.status).toBe(0);
    expect(run.aptCalls).toEqual([
      'noninteractive apt-get update -qq',
      'noninteractive apt-get install -y -qq --no-install-recommends redis-server chromium',
    ]);
    expect(existsSync(join(machine.bin, 'redis-server'))).toBe(true);
  });

  it("asks for Debian's prometheus package while promtool is missing, and checks promtool after, not only prometheus", () => {
    const missingPromtool = createMachine({ tools: ['prometheus'] });
    const run = runInstaller(missingPromtool, ['prometheus'], 'root');
    expect(run.aptCalls).toEqual([
      'noninteractive apt-get update -qq',
      'noninteractive apt-get install -y -qq --no-install-recommends prometheus',
    ]);
    // The stand-in apt-get drops an executable named after the package only: promtool is still missing.
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apt-get finished but Prometheus and promtool (the metrics tests) is still missing');
    const both = createMachine({ tools: ['prometheus', 'promtool'] });
    expect(runInstaller(both, ['prometheus'], 'root')).toMatchObject({ status: 0, aptCalls: [], stderr: '' });
  });

  it('does nothing when every tool is already on PATH', () => {
    const machine = createMachine({ tools: ['redis-server', 'chromium'] });
    const run = runInstaller(machine, ['redis', 'chromium'], 'root');
    expect(run.status).toBe(0);
    expect(run.aptCalls).toEqual([]);
    expect(run.stderr).toBe('');
  });

  it('not root: prints the one command to run, installs nothing and exits 1', () => {
    const machine = createMachine();
    const run = runInstaller(machine, ['redis', 'chromium'], 'user');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('not running as root');
    expect(run.stderr).toContain('sudo apt-get install -y redis-server chromium');
    expect(run.aptCalls).toEqual([]);
  });

  it('root without apt-get on PATH says so and prints the command', () => {
    const machine = createMachine({ withAptGet: false });
    const run = runInstaller(machine, ['redis'], 'root');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apt-get is not on PATH');
    expect(run.stderr).toContain('sudo apt-get install -y redis-server');
  });

  it('a failing apt-get is reported with the packages to install by hand', () => {
    const machine = createMachine({ aptFails: true });
    const run = runInstaller(machine, ['docker-compose'], 'root');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/apt-get update -qq failed \(exit 100\); install docker-compose by hand/);
  });

  it('an apt-get that succeeds without providing the tool is not taken at its word', () => {
    const machine = createMachine({ aptInstallsNothing: true });
    const run = runInstaller(machine, ['redis'], 'root');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apt-get finished but redis-server is still missing');
  });

  it('refuses an unknown need, naming the known ones', () => {
    const machine = createMachine();
    const run = runInstaller(machine, ['redis', 'postgres'], 'root');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'unknown need "postgres"; known: redis, chromium, docker-compose, prometheus, python-trainer, python-venv',
    );
    expect(run.aptCalls).toEqual([]);
  });
});
