// `npm test`: the type check, the linter, the formatter check (biome), vitest, the Python trainer's
// pytest, the live suite (a real vLLM on the CPU and the Python trainer's
// hf backend with real transformers: test/live-vllm) and schemathesis, each run even when one
// before failed; then a line per suite and one closing "N passed, N failed"
// line (a failed type check, lint or format check counts as one failure). Exits 1 when
// anything failed. The counts also go to .ci/out/test-summary.json, which
// .ci/summary.mjs adds the benchmarks to.
//
// The schemathesis suite (test/schemathesis/run-schemathesis.mjs) fuzzes the API and both
// trainers against their OpenAPI documents, one JUnit test case per operation; its venv
// (scripts/schemathesis-venv.mjs, ~15 s from PyPI the first time) is made or checked first.
//
// The live suite first makes (or checks, ~1 s) its venv with
// scripts/python-venv.mjs: ~6 GiB from PyPI, about 5 minutes on a fresh
// machine. Without PyPI it fails, counted as one failure, naming the cause.
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { formatSummary, runSuites, sumResults } from './test-runner.mjs';

const root = resolve(import.meta.dirname, '..');
const out = join(root, '.ci', 'out');
mkdirSync(out, { recursive: true });
const vitestReport = join(out, 'vitest.json');
const pytestReport = join(out, 'pytest.xml');
const liveReport = join(out, 'live-vllm.json');
const schemathesisReport = join(out, 'schemathesis.xml');

const suites = [
  { name: 'typecheck', command: ['tsc', '-p', 'tsconfig.json'] },
  { name: 'lint', command: ['eslint', '--max-warnings', '0', '.'] },
  // One formatter (biome.json); `npm run format` rewrites what this reports.
  { name: 'format', command: ['biome', 'format', '.'] },
  {
    name: 'vitest',
    command: ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`],
    report: { path: vitestReport, kind: 'vitest' },
  },
  {
    name: 'pytest',
    command: [join(root, 'docker', 'trainer', 'run-tests.sh'), `--junitxml=${pytestReport}`],
    report: { path: pytestReport, kind: 'junit' },
  },
  {
    name: 'live-vllm',
    prepare: {
      what: 'the live vLLM venv (scripts/python-venv.mjs)',
      command: [process.execPath, join(root, 'scripts', 'python-venv.mjs')],
    },
    command: [
      'vitest',
      'run',
      '--config',
      'test/live-vllm/vitest.config.ts',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${liveReport}`,
    ],
    report: { path: liveReport, kind: 'vitest' },
  },
  {
    name: 'schemathesis',
    prepare: {
      what: 'the schemathesis venv (scripts/schemathesis-venv.mjs)',
      command: [process.execPath, join(root, 'scripts', 'schemathesis-venv.mjs')],
    },
    command: [process.execPath, join(root, 'test', 'schemathesis', 'run-schemathesis.mjs'), '--junit', schemathesisReport],
    report: { path: schemathesisReport, kind: 'junit' },
  },
];

const env = { ...process.env, PATH: [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter) };
const results = runSuites(suites, { cwd: root, env });
const totals = sumResults(results);
writeFileSync(join(out, 'test-summary.json'), `${JSON.stringify({ ...totals, suites: results }, null, 2)}\n`);
console.log('\n=== summary');
for (const line of formatSummary(results)) console.log(line);
process.exit(totals.failed > 0 ? 1 : 0);
