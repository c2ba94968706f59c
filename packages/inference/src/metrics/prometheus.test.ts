import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, readVllmLoad } from './prometheus.js';

const VLLM = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen2.5-VL-7B-Instruct"} 3.0
vllm:num_requests_running{engine="1",model_name="Qwen/Qwen2.5-VL-7B-Instruct"} 2.0
vllm:num_requests_running{engine="0",model_name="other"} 40.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen2.5-VL-7B-Instruct"} 7.0 1712345678000
vllm:gpu_cache_usage_perc{model_name="Qwen/Qwen2.5-VL-7B-Instruct"} 0.5
`;

describe('parsePrometheusText', () => {
  it('reads names, labels with escapes, special values and timestamps', () => {
    const samples = parsePrometheusText(
      'a 1\nb{x="q\\"uo\\\\te",y="n\\nl",} NaN\nc{} +Inf 17\nd -Inf\n# comment\n\ne{bad 3\nf{z="1"} 2.5e3',
    );
    expect(samples.map((s) => s.name)).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(samples[1]!.labels).toEqual({ x: 'q"uo\\te', y: 'n\nl' });
    expect(samples[1]!.value).toBeNaN();
    expect(samples[2]!.value).toBe(Number.POSITIVE_INFINITY);
    expect(samples[4]!.value).toBe(2500);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (text) => Array.isArray(parsePrometheusText(text))));
  });
});

describe('readVllmLoad', () => {
  it('sums running and waiting over engines for the model', () => {
    expect(readVllmLoad(VLLM, 'Qwen/Qwen2.5-VL-7B-Instruct')).toEqual({ running: 5, waiting: 7 });
    expect(readVllmLoad(VLLM)).toEqual({ running: 45, waiting: 7 });
  });

  it('is undefined when the gauges are absent', () => {
    expect(readVllmLoad('process_cpu_seconds_total 1.5\n')).toBeUndefined();
  });
});
