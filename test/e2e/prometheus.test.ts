// A real Prometheus (Debian's `prometheus` package, which `npm test` installs:
// scripts/ensure-system-packages.mjs) scrapes `differad train --metrics-port`
// every second during a CPU training run and is then asked through its HTTP
// API (/api/v1/query) what it stored; and a live `differad worker`'s
// /metrics passes Prometheus's own linter, `promtool check metrics`.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClosedPort, pollUntil, startDifferad, useTrainFixture, writeTrainConfig } from './train-harness.js';

const fixture = useTrainFixture('differad-e2e-prometheus-', { redis: true });

/** The Prometheus this file started, stopped by its PID in afterAll. */
let prometheus: { child: ChildProcess; exited: Promise<unknown>; output: () => string } | undefined;

beforeAll(() => {
  for (const bin of ['prometheus', 'promtool']) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`this test needs ${bin}: node scripts/ensure-system-packages.mjs prometheus (or sudo apt-get install -y prometheus)`);
    }
  }
});

afterAll(async () => {
  if (prometheus?.child.pid === undefined || prometheus.child.exitCode !== null) return;
  process.kill(prometheus.child.pid, 'SIGTERM');
  await prometheus.exited;
});

/** Starts Prometheus on a free loopback port, scraping `target` every second into a TSDB of the test's folder. */
async function startPrometheus(target: string): Promise<string> {
  const dir = join(fixture.dir, 'prometheus');
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: differad-train\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const port = await findClosedPort();
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  prometheus = { child, exited: new Promise((resolve) => child.once('close', resolve)), output: () => output };
  const url = `http://127.0.0.1:${port}`;
  await pollUntil(
    `Prometheus ready on ${url}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${output}`);
      return (await fetch(`${url}/-/ready`).catch(() => null))?.ok ? true : undefined;
    },
    20_000,
  );
  return url;
}

interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** An instant query through Prometheus's HTTP API; its vector result. */
async function query(prometheusUrl: string, promql: string): Promise<Sample[]> {
  const reply = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: promql })}`);
  const body = (await reply.json()) as { status: string; data?: { resultType: string; result: Sample[] }; error?: string };
  if (body.status !== 'success' || body.data?.resultType !== 'vector') throw new Error(`${promql}: ${body.error ?? JSON.stringify(body)}`);
  return body.data.result;
}

describe('Prometheus scrapes differad', () => {
  it('stores a CPU run: differad_steps_completed_total rises to the step count, and the queue gauges end at 0', async () => {
    const steps = 3;
    const metricsPort = await findClosedPort();
    const prometheusUrl = await startPrometheus(`127.0.0.1:${metricsPort}`);
    const config = await writeTrainConfig(fixture.dir, 'prom.yaml', {
      run: { id: 'prom', steps, seed: 3, runsDir: 'runs' },
      data: { train: fixture.data.train },
      policy: { kind: 'cpu', servers: 1 },
      trainer: { kind: 'cpu' },
      grpo: { groupSize: 4, pairsPerStep: 2, maxResamples: 1, onExhausted: 'keep' },
    });
    // --metrics-linger: the queues and the port stay up after the last step until Prometheus scraped once more (at most 20 s).
    const train = startDifferad(['train', '--config', config, '--metrics-port', String(metricsPort), '--metrics-linger', '20000'], {
      cwd: fixture.dir,
    });
    await train.waitFor(new RegExp(`metrics on http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    const { code } = await train.exited;
    expect(code, train.stderr()).toBe(0);

    // Stale markers end the series once the process is gone: read the last sample each series had.
    const last = (promql: string) => `last_over_time(${promql}[10m])`;
    const stepsDone = await query(prometheusUrl, last('differad_steps_completed_total{run="prom"}'));
    expect(stepsDone.map((s) => Number(s.value[1]))).toEqual([steps]);
    expect((await query(prometheusUrl, last('differad_run_step{run="prom"}'))).map((s) => Number(s.value[1]))).toEqual([steps - 1]);
    expect((await query(prometheusUrl, last('differad_jobs_completed_total{queue="step"}'))).map((s) => Number(s.value[1]))).toEqual([
      steps,
    ]);
    // Every state of the four catalog queues was scraped, and the last scrape (after the last step) found them empty.
    const queues = await query(prometheusUrl, last('differad_queue_jobs'));
    expect(new Set(queues.map((s) => s.metric.queue))).toEqual(new Set(['rollout', 'resample', 'score', 'step']));
    expect(queues).toHaveLength(4 * 7);
    expect(queues.filter((s) => s.value[1] !== '0').map((s) => s.metric)).toEqual([]);
    // The fleet and the trainer were observed too.
    expect(
      (await query(prometheusUrl, last('differad_trainer_call_duration_seconds_count{call="optim_step"}'))).map((s) => Number(s.value[1])),
    ).toEqual([steps]);
    expect(await query(prometheusUrl, last('differad_fleet_concurrency_limit_sequences'))).toHaveLength(1);
    expect(await query(prometheusUrl, 'max_over_time(up{job="differad-train"}[10m])')).toMatchObject([
      { value: [expect.any(Number), '1'] },
    ]);
  }, 120_000);

  it("a live differad worker's /metrics passes promtool check metrics", async () => {
    const metricsPort = await findClosedPort();
    const worker = startDifferad(['worker', '--metrics-port', String(metricsPort)], {
      cwd: fixture.dir,
      env: { DIFFERAD_REDIS_URL: fixture.redis.url },
    });
    const [, url] = await worker.waitFor(/metrics on (http:\/\/\S+)/);
    // The port opens before the worker's queues (it is up as soon as the process is): read it once they are.
    await worker.waitFor(/serving the training queues/);
    const reply = await fetch(url!);
    expect(reply.status).toBe(200);
    const text = await reply.text();
    expect(text).toMatch(/^differad_queue_jobs\{queue="rollout",state="waiting"\} 0$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, output: '' });
    process.kill(worker.pid, 'SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it("the API's /metrics is on DIFFERAD_METRICS_PORT, apart from the API's port and without its token, and passes promtool", async () => {
    const metricsPort = await findClosedPort();
    const api = startDifferad(
      ['api', '--port', '0', '--state-dir', join(fixture.dir, 'api-state'), '--runs-dir', 'runs', '--data-root', 'data'],
      {
        cwd: fixture.dir,
        env: { DIFFERAD_REDIS_URL: fixture.redis.url, DIFFERAD_METRICS_PORT: String(metricsPort) },
      },
    );
    const [, url] = await api.waitFor(/metrics (http:\/\/\S+)/);
    expect(url).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
    const text = await (await fetch(url!)).text();
    expect(text).toMatch(/^differad_queue_jobs\{queue="step",state="active"\} 0$/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, output: '' });
    process.kill(api.pid, 'SIGTERM');
    expect((await api.exited).code).toBe(0);
  });
});
