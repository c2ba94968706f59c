/**
 * `differad doctor` in-process against real servers: the CPU policy and the
 * CPU trainer (a real policy/trainer pair: the trainer scores the policy's
 * samples with the same Gaussian, so the agreement check is real), and the
 * strict fake vLLM started misconfigured.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPU_POLICY_MODEL, CpuPolicyServer } from '@differad/cpu-policy';
import { createCpuTrainer, type CpuTrainer } from '@differad/cpu-trainer';
import { type FakeVllmOptions, type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { createCaptureIo } from '../testing/capture-io.js';
import type { DoctorCheck } from './doctor-verdicts.js';
import { FIXES } from './doctor-verdicts.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'differad-doctor-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startTrainer(model: string): Promise<string> {
  const trainer: CpuTrainer = createCpuTrainer({ stateDir: await tempDir(), model });
  const { url } = await trainer.start();
  cleanups.push(() => trainer.close());
  return url;
}

async function startFake(options: FakeVllmOptions): Promise<FakeVllmServer> {
  const fake = await startFakeVllm({ tokensPerSecond: 100_000, ...options });
  cleanups.push(() => fake.close());
  return fake;
}

/** Writes the config and runs `differad doctor --json`; the exit code and the rows. */
async function doctor(
  policy: Record<string, unknown>,
  trainerUrl: string,
  extra: string[] = [],
): Promise<{ code: number; checks: DoctorCheck[]; out: string }> {
  const dir = await tempDir();
  const file = join(dir, 'run.json');
  await writeFile(
    file,
    JSON.stringify({ data: { train: 'train.jsonl' }, policy: { kind: 'endpoints', ...policy }, trainer: { kind: 'url', url: trainerUrl } }),
  );
  const io = createCaptureIo({ cwd: dir });
  const code = await main(['node', 'differad', 'doctor', '--config', 'run.json', ...extra], io);
  const checks = extra.includes('--json') ? (JSON.parse(io.out) as { checks: DoctorCheck[] }).checks : [];
  return { code, checks, out: io.output };
}

const row = (checks: readonly DoctorCheck[], check: string, target?: string) =>
  checks.find((c) => c.check === check && (target === undefined || c.target === target));

describe('differad doctor', () => {
  it('passes every check against CPU policy servers and the CPU trainer, the disk sync included', async () => {
    const servers = await Promise.all([CpuPolicyServer.start(), CpuPolicyServer.start()]);
    cleanups.push(() => Promise.all(servers.map((s) => s.close())));
    const trainerUrl = await startTrainer(CPU_POLICY_MODEL);
    const { code, checks, out } = await doctor(
      { endpoints: servers.map((s) => s.url), model: CPU_POLICY_MODEL, syncBackend: 'disk' },
      trainerUrl,
      ['--json'],
    );
    expect(
      checks.filter((c) => c.status !== 'pass'),
      out,
    ).toEqual([]);
    expect(code).toBe(0);
    for (const s of servers) {
      for (const check of [
        'reachable',
        'version',
        'model',
        'dev mode',
        'world size',
        'logprobs mode',
        'weight transfer',
        'log-prob agreement',
      ])
        expect(row(checks, check, s.url)?.status, `${check} ${s.url}`).toBe('pass');
      expect(row(checks, 'log-prob agreement', s.url)?.detail).toMatch(/^mean \|Δ\| 0\.0000 nats\/token/);
      // The disk sync labels each server's reload with the version it loaded (update_weight_version).
      expect(row(checks, 'weight version', s.url)).toMatchObject({ status: 'pass', detail: 'reports 0' });
    }
    expect(row(checks, 'weight sync')).toMatchObject({ status: 'pass', target: 'trainer → 2 server(s)' });
    expect(row(checks, 'health')?.detail).toContain('weight version 0');
    expect(row(checks, 'health')?.detail).toContain('features packed_completions');
  });

  it('prints a table with the fix under each failure: a fake vLLM with raw log-probs, without dev mode, serving another model', async () => {
    const [raw, noDev, other] = await Promise.all([
      startFake({ model: 'differad-fake', logprobsMode: 'raw_logprobs' }),
      startFake({ model: 'differad-fake', devMode: false, logprobsMode: 'processed_logprobs' }),
      startFake({ model: 'someone-else', logprobsMode: 'processed_logprobs' }),
    ]);
    const trainerUrl = await startTrainer('differad-fake');
    const { code, out } = await doctor(
      { endpoints: [raw.url, noDev.url, other.url], model: 'differad-fake', syncBackend: 'disk' },
      trainerUrl,
      ['--no-sync'],
    );
    expect(code, out).toBe(2);
    const lines = out.split('\n');
    const fixAfter = (pattern: RegExp) => lines[lines.findIndex((l) => pattern.test(l)) + 1]?.trim();
    expect(fixAfter(new RegExp(`^logprobs mode\\s+${raw.url}\\s+FAIL\\s+raw_logprobs`))).toBe(`fix: ${FIXES.logprobsMode}`);
    expect(fixAfter(new RegExp(`^dev mode\\s+${noDev.url}\\s+FAIL\\s+GET /get_world_size is 404`))).toBe(`fix: ${FIXES.devMode}`);
    expect(fixAfter(new RegExp(`^model\\s+${other.url}\\s+FAIL\\s+serves someone-else, not "differad-fake"`))).toContain(
      '--served-model-name differad-fake',
    );
    expect(out).toMatch(new RegExp(`^logprobs mode\\s+${noDev.url}\\s+skipped\\s+no dev routes`, 'm'));
    expect(out).toMatch(new RegExp(`^log-prob agreement\\s+${other.url}\\s+skipped`, 'm'));
    expect(out).toMatch(/^weight sync\s+trainer → 3 server\(s\)\s+skipped\s+--no-sync/m);
    // The servers that do serve the model pass what they are right about.
    expect(out).toMatch(new RegExp(`^logprobs mode\\s+${other.url}\\s+ok\\s+processed_logprobs`, 'm'));
    expect(out).toMatch(new RegExp(`^dev mode\\s+${raw.url}\\s+ok`, 'm'));
  });

  it('names the nccl engine a server lacks, and an unreachable server and trainer', async () => {
    const fake = await startFake({ model: 'm', logprobsMode: 'processed_logprobs' });
    const { code, checks } = await doctor(
      { endpoints: [fake.url, 'http://127.0.0.1:9'], model: 'm', syncBackend: 'nccl' },
      'http://127.0.0.1:9',
      ['--json', '--timeout-ms', '2000'],
    );
    expect(code).toBe(2);
    expect(row(checks, 'weight transfer', fake.url)).toMatchObject({ status: 'fail', fix: FIXES.weightTransfer });
    expect(row(checks, 'reachable', 'http://127.0.0.1:9')).toMatchObject({ status: 'fail', fix: FIXES.unreachable });
    expect(row(checks, 'health', 'trainer http://127.0.0.1:9')).toMatchObject({ status: 'fail', fix: FIXES.trainerUnreachable });
    expect(row(checks, 'weight sync')?.status).toBe('skip');
  });

  it('is wrong usage (1) without --config', async () => {
    expect(await main(['node', 'differad', 'doctor'], createCaptureIo())).toBe(1);
  });
});
