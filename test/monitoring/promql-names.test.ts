import { describe, expect, it } from 'vitest';
import { toPromqlRefs } from './promql-names.js';

describe('toPromqlRefs', () => {
  it("finds the metric of a plain selector and of one with matchers, with the matchers' label names", () => {
    const refs = toPromqlRefs('differad_run_step{run=~"$run", job!="x"}');
    expect(refs.metrics).toEqual(['differad_run_step']);
    expect(refs.matchers.get('differad_run_step')).toEqual(['run', 'job']);
    expect(toPromqlRefs('up').metrics).toEqual(['up']);
  });

  it('skips functions, aggregations, grouping clauses, ranges, numbers and Grafana variables', () => {
    const refs = toPromqlRefs(
      'histogram_quantile(0.95, sum by (le, server) (rate(differad_rollout_request_duration_seconds_bucket[$__rate_interval]))) * 60 > bool 1e3',
    );
    expect(refs.metrics).toEqual(['differad_rollout_request_duration_seconds_bucket']);
    expect(refs.grouping).toEqual(['le', 'server']);
  });

  it("reads both sides of a binary operation, vLLM's colon names, offsets and strings that look like names", () => {
    const refs = toPromqlRefs(
      'sum by (run) (increase(a_total{run=~"$run"}[5m] offset 1h)) / on (run) group_left sum by (run) (b_total) or label_replace(vllm:num_requests_running, "dst", "not_a_metric", "src", "(.*)")',
    );
    expect(refs.metrics).toEqual(['a_total', 'b_total', 'vllm:num_requests_running']);
    expect(refs.grouping).toEqual(['run', 'run', 'run']);
  });

  it('reports a selector without a metric name rather than resolving it', () => {
    expect(toPromqlRefs('{__name__=~"differad_.*"}').metrics).toEqual(['__selector_without_name']);
  });
});
