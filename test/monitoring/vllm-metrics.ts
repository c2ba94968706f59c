/**
 * vLLM's own Prometheus metrics that the Grafana dashboard may query, as
 * vLLM 0.32.0 declares them in `vllm/v1/metrics/loggers.py`
 * (`PrometheusStatLogger.__init__`, the pinned version of docker/vllm; line
 * numbers of that file). Every one carries the labels `model_name` and
 * `engine` (`labelnames = ["model_name", "engine"]`, line 499), some more
 * (`extraLabels`).
 *
 * vLLM registers them with prometheus_client, which exposes a `Counter` as
 * `<name>_total` (and `<name>_created`) and a `Histogram` as
 * `<name>_bucket`, `_sum` and `_count`; a `Gauge` keeps its name.
 */
export const VLLM_METRICS = [
  { name: 'vllm:num_requests_running', type: 'gauge', line: 528 },
  { name: 'vllm:num_requests_waiting', type: 'gauge', line: 538 },
  { name: 'vllm:kv_cache_usage_perc', type: 'gauge', line: 620 },
  { name: 'vllm:num_preemptions', type: 'counter', line: 739 },
  { name: 'vllm:prompt_tokens', type: 'counter', line: 748 },
  { name: 'vllm:generation_tokens', type: 'counter', line: 799 },
  { name: 'vllm:request_success', type: 'counter', line: 809, extraLabels: ['finished_reason'] },
  { name: 'vllm:time_to_first_token_seconds', type: 'histogram', line: 931 },
  { name: 'vllm:inter_token_latency_seconds', type: 'histogram', line: 941 },
  { name: 'vllm:e2e_request_latency_seconds', type: 'histogram', line: 961 },
  { name: 'vllm:request_queue_time_seconds', type: 'histogram', line: 971 },
] as const;

/** The labels of every metric of {@link VLLM_METRICS}. */
export const VLLM_LABELS = ['model_name', 'engine'] as const;
