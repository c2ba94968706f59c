/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number | undefined {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const v = Number(text);
  return text !== '' && Number.isFinite(v) ? v : undefined;
}

/** Parses `{a="x",b="y\"z"}` starting at `s[0] === '{'`; returns the labels and the rest, or undefined. */
function parseLabels(s: string): { labels: Record<string, string>; rest: string } | undefined {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (s[i] === ' ' || s[i] === ',') i++;
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const name = LABEL_NAME.exec(s.slice(i))?.[0];
    if (!name) return undefined;
    i += name.length;
    while (s[i] === ' ') i++;
    if (s[i] !== '=' || s[i + 1] !== '"') return undefined;
    i += 2;
    let value = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) {
        const c = s[i + 1];
        value += c === 'n' ? '\n' : c;
        i += 2;
      } else value += s[i++];
    }
    if (s[i] !== '"') return undefined;
    labels[name] = value;
    i++;
  }
}

/**
 * Parses Prometheus text exposition (version 0.0.4): comments and blank lines
 * skipped, labels with escapes, NaN/±Inf values, optional timestamps. A line
 * that does not parse is skipped rather than failing the scrape.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (!name) continue;
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const parsed = parseLabels(rest);
      if (!parsed) continue;
      labels = parsed.labels;
      rest = parsed.rest;
    }
    const value = parseValue(rest.trim().split(/\s+/)[0] ?? '');
    if (value !== undefined) samples.push({ name, labels, value });
  }
  return samples;
}

/** A server's queue as vLLM reports it: sequences running and waiting. */
export interface VllmLoad {
  readonly running: number;
  readonly waiting: number;
}

const RUNNING = new Set(['vllm:num_requests_running', 'vllm_num_requests_running']);
const WAITING = new Set(['vllm:num_requests_waiting', 'vllm_num_requests_waiting']);

/**
 * Sums `vllm:num_requests_running` and `vllm:num_requests_waiting` over their
 * series (several engines or ranks), keeping series of `model` (by their
 * `model_name` label) when given. Undefined when neither gauge is present.
 */
export function readVllmLoad(text: string, model?: string): VllmLoad | undefined {
  let running = 0;
  let waiting = 0;
  let found = false;
  for (const s of parsePrometheusText(text)) {
    const isRunning = RUNNING.has(s.name);
    if (!isRunning && !WAITING.has(s.name)) continue;
    if (model !== undefined && s.labels.model_name !== undefined && s.labels.model_name !== model) continue;
    if (!Number.isFinite(s.value)) continue;
    found = true;
    if (isRunning) running += s.value;
    else waiting += s.value;
  }
  return found ? { running, waiting } : undefined;
}
