import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from './catalog/metric-catalog.js';
import { createMetrics, toCodeLabel } from './create-metrics.js';
import { fixedFleet, fixedQueue, populateEveryMetric } from './testing/every-metric.js';

/** The sample lines of `name` (exact metric name, any labels) in an exposition. */
const samples = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('createMetrics: the exposition', () => {
  it('has a HELP and a TYPE line for every catalog metric, differad_-prefixed, in base units, _total on counters only', async () => {
    const text = await createMetrics({ processMetrics: false }).expose();
    for (const spec of Object.values(METRIC_CATALOG)) {
      expect(text).toContain(`# HELP ${spec.name} ${spec.help}\n# TYPE ${spec.name} ${spec.type}\n`);
      expect(spec.name).toMatch(/^differad_[a-z_]+$/);
      expect(spec.name.endsWith('_total'), spec.name).toBe(spec.type === 'counter');
      expect(spec.name, 'no milliseconds: base units').not.toMatch(/_ms\b|_milliseconds/);
      if (spec.type === 'histogram') expect(spec.name).toMatch(/_seconds$/);
    }
    expect(text).toContain('differad_steps_completed_total');
  });

  it('reads queue counts at scrape time, per queue and state, and counts a queue whose Redis failed instead of failing the scrape', async () => {
    const metrics = createMetrics({ processMetrics: false });
    populateEveryMetric(metrics);
    const text = await metrics.expose();
    expect(samples(text, 'differad_queue_jobs')).toEqual(
      expect.arrayContaining([
        'differad_queue_jobs{queue="rollout",state="waiting"} 3',
        'differad_queue_jobs{queue="rollout",state="active"} 1',
        'differad_queue_jobs{queue="rollout",state="delayed"} 2',
        'differad_queue_jobs{queue="rollout",state="failed"} 1',
        'differad_queue_jobs{queue="rollout",state="paused"} 0',
        'differad_queue_jobs{queue="step",state="waiting-children"} 1',
      ]),
    );
    expect(samples(text, 'differad_queue_jobs')).toHaveLength(14);
    expect(samples(text, 'differad_queue_jobs').some((l) => l.includes('queue="score"'))).toBe(false);
    expect(samples(text, 'differad_queue_collect_errors_total')).toEqual(['differad_queue_collect_errors_total{queue="score"} 1']);
  });

  it('records jobs, rollouts, trainer calls, completions and weight syncs with bounded labels', async () => {
    const metrics = createMetrics({ processMetrics: false });
    populateEveryMetric(metrics);
    metrics.recordJobFailed('score', 'not a code: ECONNRESET 10.0.0.7', true);
    metrics.recordJobFailed('score', undefined, true);
    metrics.recordCompletions(['tool_calls']);
    const text = await metrics.expose();
    expect(samples(text, 'differad_jobs_completed_total')).toEqual(['differad_jobs_completed_total{queue="rollout"} 1']);
    expect(samples(text, 'differad_job_retries_total')).toEqual(['differad_job_retries_total{queue="rollout",code="INFERENCE_TIMEOUT"} 1']);
    expect(samples(text, 'differad_jobs_failed_total')).toEqual([
      'differad_jobs_failed_total{queue="step",code="TRAINER_STEP_CONFLICT"} 1',
      'differad_jobs_failed_total{queue="score",code="OTHER"} 1',
      'differad_jobs_failed_total{queue="score",code="UNKNOWN"} 1',
    ]);
    expect(samples(text, 'differad_job_duration_seconds_count')).toEqual(['differad_job_duration_seconds_count{queue="rollout"} 1']);
    expect(text).toContain('differad_rollout_request_duration_seconds_bucket{le="5",server="http://vllm-0:8000"} 1');
    expect(text).toContain('differad_rollout_request_duration_seconds_bucket{le="1",server="http://vllm-0:8000"} 0');
    expect(text).toContain('differad_trainer_call_duration_seconds_sum{call="forward_backward"} 0.8');
    expect(samples(text, 'differad_completions_generated_total')).toEqual([
      'differad_completions_generated_total{finish_reason="stop"} 2',
      'differad_completions_generated_total{finish_reason="length"} 1',
      'differad_completions_generated_total{finish_reason="other"} 2',
    ]);
    expect(text).toContain('differad_weight_sync_duration_seconds_count{backend="disk"} 1');
    expect(samples(text, 'differad_weight_version')).toEqual(['differad_weight_version{run="demo"} 3']);
  });

  it('reads the fleet per server at scrape time, in seconds, adding up several clients of one process', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.collectFleet(fixedFleet());
    const stop = metrics.collectFleet(fixedFleet());
    let text = await metrics.expose();
    expect(samples(text, 'differad_fleet_in_flight_sequences')).toEqual([
      'differad_fleet_in_flight_sequences{server="http://vllm-0:8000"} 16',
      'differad_fleet_in_flight_sequences{server="http://vllm-1:8000"} 0',
    ]);
    expect(samples(text, 'differad_fleet_server_ejected')).toEqual([
      'differad_fleet_server_ejected{server="http://vllm-0:8000"} 0',
      'differad_fleet_server_ejected{server="http://vllm-1:8000"} 1',
    ]);
    expect(samples(text, 'differad_fleet_latency_ewma_seconds')).toEqual([
      'differad_fleet_latency_ewma_seconds{server="http://vllm-0:8000"} 1.5',
    ]);
    expect(samples(text, 'differad_fleet_queued_requests')).toEqual(['differad_fleet_queued_requests 4']);
    stop();
    text = await metrics.expose();
    expect(samples(text, 'differad_fleet_concurrency_limit_sequences')).toContain(
      'differad_fleet_concurrency_limit_sequences{server="http://vllm-0:8000"} 16',
    );
    expect(samples(text, 'differad_fleet_queued_requests')).toEqual(['differad_fleet_queued_requests 2']);
  });

  it('stops reading queues that were taken out, and skips a queue that does not answer in time', async () => {
    const metrics = createMetrics({ processMetrics: false, queueCountTimeoutMs: 20 });
    const stop = metrics.collectQueues([fixedQueue('rollout')]);
    metrics.collectQueues([{ name: 'stuck', getJobCounts: () => new Promise(() => {}) }]);
    let text = await metrics.expose();
    expect(samples(text, 'differad_queue_jobs').every((l) => l.includes('queue="rollout"'))).toBe(true);
    expect(samples(text, 'differad_queue_collect_errors_total')).toEqual(['differad_queue_collect_errors_total{queue="stuck"} 1']);
    stop();
    text = await metrics.expose();
    expect(samples(text, 'differad_queue_jobs')).toEqual([]);
  });
});

describe('createMetrics: per run', () => {
  const row = (step: number, extra: Record<string, number | null> = {}) => ({
    step,
    reward_mean: 0.5,
    frac_degenerate: 0.1,
    resamples: 2,
    replacements: 1,
    loss: 0.2,
    kl: null,
    total_ms: 1000,
    ...extra,
  });

  it('shows the last step of each run, counts each step once, keeps the held-out figures between evaluations and leaves out what a row does not report', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.recordStep('a', row(0, { eval_acc: 0.6 }));
    metrics.recordStep('a', row(1));
    metrics.recordStep('a', row(1)); // a retried step job replaying its row
    const text = await metrics.expose();
    expect(samples(text, 'differad_run_step')).toEqual(['differad_run_step{run="a"} 1']);
    expect(samples(text, 'differad_steps_completed_total')).toEqual(['differad_steps_completed_total{run="a"} 2']);
    expect(samples(text, 'differad_run_resamples_total')).toEqual(['differad_run_resamples_total{run="a"} 4']);
    expect(samples(text, 'differad_run_replacements_total')).toEqual(['differad_run_replacements_total{run="a"} 2']);
    expect(samples(text, 'differad_run_reward_mean')).toEqual(['differad_run_reward_mean{run="a"} 0.5']);
    expect(samples(text, 'differad_run_degenerate_ratio')).toEqual(['differad_run_degenerate_ratio{run="a"} 0.1']);
    expect(samples(text, 'differad_run_heldout_accuracy_ratio')).toEqual(['differad_run_heldout_accuracy_ratio{run="a"} 0.6']);
    expect(samples(text, 'differad_run_kl')).toEqual([]);
    expect(samples(text, 'differad_step_duration_seconds_count')).toEqual(['differad_step_duration_seconds_count 2']);
  });

  it('counts a step replayed after a rewind again', async () => {
    const metrics = createMetrics({ processMetrics: false });
    for (const step of [0, 1, 2, 1, 2]) metrics.recordStep('a', row(step));
    expect(samples(await metrics.expose(), 'differad_steps_completed_total')).toEqual(['differad_steps_completed_total{run="a"} 5']);
  });

  it('keeps at most maxRuns runs: the least recently recorded one loses every series, and forgetRun drops one at once', async () => {
    const metrics = createMetrics({ processMetrics: false, maxRuns: 2 });
    metrics.recordStep('a', row(0));
    metrics.recordStep('b', row(0));
    metrics.recordWeightSync({ run: 'a', backend: 'nccl', seconds: 1, version: 1 });
    metrics.recordStep('c', row(0));
    let text = await metrics.expose();
    expect(text).not.toContain('run="b"');
    expect(samples(text, 'differad_run_step')).toEqual(['differad_run_step{run="a"} 0', 'differad_run_step{run="c"} 0']);
    metrics.forgetRun('a');
    text = await metrics.expose();
    expect(text).not.toContain('run="a"');
    // A forgotten run that comes back starts its counters afresh and counts its step.
    metrics.recordStep('a', row(0));
    expect(samples(await metrics.expose(), 'differad_steps_completed_total')).toContain('differad_steps_completed_total{run="a"} 1');
  });

  it('keeps at most maxServers rollout-latency series', async () => {
    const metrics = createMetrics({ processMetrics: false, maxServers: 1 });
    metrics.observeRollout(1, 'http://127.0.0.1:40001');
    metrics.observeRollout(1, 'http://127.0.0.1:40002');
    const text = await metrics.expose();
    expect(text).not.toContain('40001');
    expect(samples(text, 'differad_rollout_request_duration_seconds_count')).toEqual([
      'differad_rollout_request_duration_seconds_count{server="http://127.0.0.1:40002"} 1',
    ]);
  });
});

describe('toCodeLabel', () => {
  it('keeps registry codes and folds everything else into two values', () => {
    expect(toCodeLabel('INFERENCE_TIMEOUT')).toBe('INFERENCE_TIMEOUT');
    expect(toCodeLabel(undefined)).toBe('UNKNOWN');
    expect(toCodeLabel('')).toBe('UNKNOWN');
    expect(toCodeLabel('ECONNRESET 10.0.0.7:6379')).toBe('OTHER');
    expect(toCodeLabel('inference_timeout')).toBe('OTHER');
  });
});

describe('process metrics', () => {
  it('come from prom-client by default, without its _total-suffixed gauges', async () => {
    const text = await createMetrics().expose();
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_active_handles gauge');
    expect(text).not.toContain('nodejs_active_handles_total');
  });
});
