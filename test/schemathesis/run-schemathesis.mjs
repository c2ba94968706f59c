// The schemathesis suite of `npm test` (issue 13): fuzzes three servers against their own
// OpenAPI documents, all on 127.0.0.1, at once:
//   api          `differad api` (packages/api, as startFakeApi: an embedded Redis and launchers that
//                only touch the stores, so a valid generated run starts nothing) against its
//                own /openapi.json, with the bearer token;
//   cpu-trainer  `differad trainer serve --cpu` against docs/trainer-api.json;
//   py-trainer   the Python trainer (docker/trainer, tiny backend, Debian's /usr/bin/python3)
//                against docs/trainer-api.json.
// Checks: no 5xx, every response matching its documented schema, status code and content type.
// Each run writes a JUnit report; they are merged into one file for scripts/test-runner.mjs.
// The servers are stopped by PID (SIGTERM) whatever happened.
//
// Usage: node test/schemathesis/run-schemathesis.mjs --junit <file> [--st <path to st>]
//   DIFFERAD_SCHEMATHESIS_EXAMPLES  --max-examples per operation (default 20)
//   DIFFERAD_SCHEMATHESIS_SEED      the seed (default 13: reproducible; set another to explore)
//   DIFFERAD_TEST_PYTHON            the Python trainer's interpreter (default /usr/bin/python3)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { mergeJunitReports } from '../../scripts/test-runner.mjs';

const root = resolve(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { junit: { type: 'string' }, st: { type: 'string' } } });
if (!values.junit) {
  console.error('usage: node test/schemathesis/run-schemathesis.mjs --junit <file> [--st <path to st>]');
  process.exit(2);
}
const st = values.st ?? join(homedir(), '.cache', 'differad', 'venv-schemathesis', 'bin', 'st');
const examples = process.env.DIFFERAD_SCHEMATHESIS_EXAMPLES || '20';
const seed = process.env.DIFFERAD_SCHEMATHESIS_SEED || '13';
const python = process.env.DIFFERAD_TEST_PYTHON || '/usr/bin/python3';
const work = mkdtempSync(join(tmpdir(), 'differad-schemathesis-'));
const children = [];

/** Starts a server; resolves with the URL once `ready` matches its output (stdout and stderr). */
function startServer(name, command, args, options, ready) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push({ name, child });
  let output = '';
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${output}`)), 60_000);
    const onData = (d) => {
      output += d;
      const m = output.match(ready);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('error', (e) => reject(new Error(`${name}: ${e.message}`)));
    child.on('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output}`)));
  });
}

/** SIGTERM to each server still running, by PID; waits (at most 10 s each) for it to go. */
async function stopServers() {
  await Promise.all(
    children.map(({ name, child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      return new Promise((done) => {
        const timer = setTimeout(() => {
          console.error(`${name} (pid ${child.pid}) ignored SIGTERM for 10 s: SIGKILL`);
          process.kill(child.pid, 'SIGKILL');
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        process.kill(child.pid, 'SIGTERM');
      });
    }),
  );
}

/** One `st run`, its output prefixed with the target's name; resolves with its exit status. */
function runSchemathesis(name, location, extra) {
  const report = join(work, `${name}.xml`);
  const args = [
    'run',
    location,
    ...extra,
    '--checks',
    'not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance',
    '--max-examples',
    examples,
    '--seed',
    seed,
    '--generation-database',
    'none',
    '--request-timeout',
    '10',
    '--no-color',
    '--report',
    'junit',
    '--report-junit-path',
    report,
  ];
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(st, args, {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' },
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (text += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (text += d));
    child.on('error', (e) =>
      done({ name, status: 1, report, text: `${st}: ${e.message} (make the venv: node scripts/schemathesis-venv.mjs)` }),
    );
    child.on('close', (status) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      done({ name, status: status ?? 1, report, text: `${text}\n(${name}: exit ${status}, ${seconds} s)` });
    });
  });
}

let failed = false;
try {
  const token = randomBytes(24).toString('hex');
  const node = process.execPath;
  const cli = join(root, 'apps', 'cli', 'bin', 'differad.js');
  const trainerDir = join(root, 'docker', 'trainer');
  const [apiUrl, cpuUrl, pyUrl] = await Promise.all([
    startServer(
      'api',
      node,
      ['--import', 'tsx', join(root, 'test', 'schemathesis', 'serve-fake-api.ts'), token],
      { cwd: root },
      /fake API listening on (http:\/\/127\.0\.0\.1:\d+)/,
    ),
    startServer(
      'cpu-trainer',
      node,
      [cli, 'trainer', 'serve', '--cpu', '--host', '127.0.0.1', '--port', '0', '--state-dir', join(work, 'cpu-trainer')],
      { cwd: work },
      /CPU trainer listening on (http:\/\/127\.0\.0\.1:\d+)/,
    ),
    startServer(
      'py-trainer',
      python,
      ['-m', 'differad_trainer', '--host', '127.0.0.1', '--port', '0'],
      {
        cwd: trainerDir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? tmpdir(),
          PYTHONPATH: trainerDir,
          PYTHONDONTWRITEBYTECODE: '1',
          DIFFERAD_TRAINER_BACKEND: 'tiny',
          DIFFERAD_TRAINER_CHECKPOINT_DIR: join(work, 'py-trainer', 'checkpoints'),
          DIFFERAD_TRAINER_WEIGHTS_DIR: join(work, 'py-trainer', 'weights'),
          DIFFERAD_TRAINER_LOG_LEVEL: 'warning',
        },
      },
      /listening on (http:\/\/127\.0\.0\.1:\d+)[^]*differad trainer ready/,
    ),
  ]);
  const trainerDoc = join(root, 'docs', 'trainer-api.json');
  const runs = await Promise.all([
    runSchemathesis('api', `${apiUrl}/openapi.json`, ['--header', `Authorization: Bearer ${token}`]),
    runSchemathesis('cpu-trainer', trainerDoc, ['--url', cpuUrl]),
    runSchemathesis('py-trainer', trainerDoc, ['--url', pyUrl]),
  ]);
  const reports = [];
  for (const run of runs) {
    console.log(`\n=== schemathesis ${run.name}\n${run.text.trim()}`);
    if (run.status !== 0) failed = true;
    try {
      reports.push({ name: `schemathesis ${run.name}`, xml: readFileSync(run.report, 'utf8') });
    } catch {
      console.error(`${run.name}: no JUnit report at ${run.report}`);
      failed = true;
    }
  }
  mkdirSync(dirname(values.junit), { recursive: true });
  writeFileSync(values.junit, mergeJunitReports(reports));
} catch (error) {
  console.error(`schemathesis: ${error.message}`);
  failed = true;
} finally {
  await stopServers();
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
