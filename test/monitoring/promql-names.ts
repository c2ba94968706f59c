/**
 * The metric names and label names a PromQL expression refers to, enough to
 * check a dashboard's queries against what the project exports: it reads
 * selectors (`name`, `name{label="…"}`), grouping clauses (`by (…)`,
 * `without (…)`, `on (…)`, `ignoring (…)`, `group_left (…)`) and function
 * calls, and skips strings, ranges, numbers, durations and Grafana variables
 * (`$run`, `${run}`, `$__rate_interval`). It is not a PromQL parser: an
 * expression that selects by `__name__` is reported, not resolved.
 */
export interface PromqlRefs {
  /** Metric names of the selectors, in order of appearance, deduplicated. */
  readonly metrics: readonly string[];
  /** Label names of each selector's matchers, by metric name. */
  readonly matchers: ReadonlyMap<string, readonly string[]>;
  /** Label names of the grouping clauses. */
  readonly grouping: readonly string[];
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'start',
  'end',
]);
const IDENT = /(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*/g;
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const LABEL_MATCHER = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g;

/** Reads the references of `expr` (see {@link PromqlRefs}). */
export function toPromqlRefs(expr: string): PromqlRefs {
  let rest = expr
    .replace(/\$\{[^}]*\}|\[\[[^\]]*\]\]|\$[A-Za-z_][A-Za-z0-9_]*/g, 'X') // Grafana variables
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""'); // string literals
  const matchers = new Map<string, string[]>();
  rest = rest.replace(/([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}/g, (_, name: string | undefined, body: string) => {
    const labels = [...body.matchAll(LABEL_MATCHER)].map((m) => m[1]!);
    if (name === undefined) return ' __selector_without_name ';
    matchers.set(name, [...(matchers.get(name) ?? []), ...labels]);
    return ` ${name} `;
  });
  const grouping: string[] = [];
  rest = rest
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(GROUPING, (_, list: string) => {
      grouping.push(
        ...list
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      );
      return ' ';
    });
  const metrics: string[] = [];
  for (const m of rest.matchAll(IDENT)) {
    const name = m[0];
    const after = rest.slice(m.index + name.length);
    if (KEYWORDS.has(name.toLowerCase()) || /^\s*\(/.test(after)) continue; // keywords, function and aggregation calls
    if (!metrics.includes(name)) metrics.push(name);
  }
  return { metrics, matchers, grouping };
}
