// The monitoring profile's files (deploy/monitoring) against what the
// project exports: every query of the Grafana dashboard names a metric of the
// @differad/metrics registry (or one of vLLM's, cited from its source, or
// Prometheus's own `up`) with labels that metric has; the scrape config
// passes `promtool check config`; the provisioning points where compose
// mounts the files; and the README's metric list is the registry's.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMetrics, METRIC_CATALOG, toMetricsTable } from '@differad/metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toPromqlRefs } from './promql-names.js';
import { VLLM_LABELS, VLLM_METRICS } from './vllm-metrics.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}/${path}`, 'utf8');

/** Labels every scraped series gets from its target. */
const TARGET_LABELS = ['job', 'instance'];

/** Every series name a query may select, with the labels its series carry. */
async function exportedSeries(): Promise<Map<string, Set<string>>> {
  const series = new Map<string, Set<string>>();
  const add = (names: readonly string[], labels: readonly string[]) => {
    for (const name of names) series.set(name, new Set([...labels, ...TARGET_LABELS]));
  };
  // The registry as a process exposes it: the catalog metrics, and prom-client's process metrics
  // (their labels as their values carry them: `getMetricsAsJSON` runs their collectors).
  const catalog = new Map<string, readonly string[]>(Object.values(METRIC_CATALOG).map((m) => [m.name, m.labels]));
  for (const metric of await createMetrics().registry.getMetricsAsJSON()) {
    const valueLabels = metric.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le');
    const labels = [...new Set([...(catalog.get(metric.name) ?? []), ...valueLabels])];
    if (String(metric.type) === 'histogram') {
      add([`${metric.name}_bucket`], [...labels, 'le']);
      add([`${metric.name}_sum`, `${metric.name}_count`], labels);
    } else add([metric.name], labels);
  }
  for (const m of VLLM_METRICS) {
    const labels = [...VLLM_LABELS, ...('extraLabels' in m ? m.extraLabels : [])];
    if (m.type === 'counter') add([`${m.name}_total`, `${m.name}_created`], labels);
    else if (m.type === 'histogram') {
      add([`${m.name}_bucket`], [...labels, 'le']);
      add([`${m.name}_sum`, `${m.name}_count`], labels);
    } else add([m.name], labels);
  }
  add(['up'], []); // Prometheus's own series per target
  return series;
}

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly { readonly expr: string; readonly datasource?: { readonly uid?: string } }[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: readonly { readonly name: string; readonly definition: string; readonly datasource: { readonly uid: string } }[];
  };
}

const dashboard = JSON.parse(read('deploy/monitoring/grafana/dashboards/differad.json')) as Dashboard;
const queries = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...dashboard.templating.list.map((v) => ({
    where: `variable "${v.name}"`,
    expr: v.definition.replace(/^label_values\((.*),\s*(\w+)\)$/, '$1'),
  })),
];

describe('the Grafana dashboard', () => {
  let series: Map<string, Set<string>>;
  beforeAll(async () => {
    series = await exportedSeries();
  });

  it('queries only metrics the project exports (or vLLM 0.32.0 and Prometheus do), with labels those metrics have', () => {
    const problems: string[] = [];
    for (const { where, expr } of queries) {
      const refs = toPromqlRefs(expr);
      expect(refs.metrics.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of refs.metrics) {
        const labels = series.get(name);
        if (!labels) {
          problems.push(`${where} queries ${name}, which nothing exports`);
          continue;
        }
        for (const label of refs.matchers.get(name) ?? [])
          if (!labels.has(label)) problems.push(`${where} matches ${name} on ${label}, a label it does not have`);
      }
      for (const label of refs.grouping) {
        if (!refs.metrics.some((name) => series.get(name)?.has(label)))
          problems.push(`${where} groups by ${label}, a label of none of ${refs.metrics.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('shows every metric of the issue: queues, jobs, latencies, completions, fleet, weight sync and the per-run figures', () => {
    const queried = new Set(queries.flatMap(({ expr }) => toPromqlRefs(expr).metrics).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    const catalog = Object.values(METRIC_CATALOG).map((m) => m.name);
    // Only the scrape-health counter is left to Prometheus's own `up` panel.
    expect(catalog.filter((name) => !queried.has(name))).toEqual(['differad_queue_collect_errors_total']);
  });

  it('reads every panel from the provisioned Prometheus data source', () => {
    const datasource = parse(read('deploy/monitoring/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string }[];
    };
    const uid = datasource.datasources[0]!.uid;
    expect(datasource.datasources[0]!.url).toBe('http://prometheus:9090');
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe(uid);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(uid);
    }
    expect(dashboard.templating.list.every((v) => v.datasource.uid === uid)).toBe(true);
    // The dashboard provider reads the folder compose mounts the dashboards at.
    const provider = parse(read('deploy/monitoring/grafana/provisioning/dashboards/differad.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(read('docker-compose.yml')).toContain(`./deploy/monitoring/grafana/dashboards:${provider.providers[0]!.options.path}:ro`);
  });
});

describe('the Prometheus scrape config', () => {
  beforeAll(() => {
    if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(
        'the monitoring tests need promtool: node scripts/ensure-system-packages.mjs prometheus (or sudo apt-get install -y prometheus)',
      );
    }
  });

  it('passes promtool check config', () => {
    const result = spawnSync('promtool', ['check', 'config', `${ROOT}/deploy/monitoring/prometheus.yml`], { encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });

  it('scrapes the API, the workers, the trainers and the inference servers', () => {
    const config = parse(read('deploy/monitoring/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[] }[] }[];
    };
    const scraped = config.scrape_configs.flatMap((job) => job.dns_sd_configs.flatMap((d) => d.names)).sort();
    expect(scraped).toEqual(['api', 'cpu-policy', 'cpu-trainer', 'orchestrator', 'trainer', 'vllm']);
    // The panel "Resident memory" selects differad's own processes by job name.
    expect(
      config.scrape_configs
        .map((j) => j.job_name)
        .filter((name) => name.startsWith('differad-'))
        .sort(),
    ).toEqual(['differad-api', 'differad-workers']);
  });
});

describe('README, "Monitoring"', () => {
  it("lists exactly the registry's metrics (regenerate with npx tsx packages/metrics/scripts/emit-metrics-table.ts)", () => {
    const readme = read('README.md');
    const table = readme.match(/<!-- metrics-table:start -->\n([\s\S]*?)\n<!-- metrics-table:end -->/);
    expect(table, 'README.md has the metrics-table markers').not.toBeNull();
    expect(table![1]).toBe(toMetricsTable());
  });
});

describe('the registry behind these checks', () => {
  it('exports every catalog metric with its type', async () => {
    const types = new Map((await createMetrics().registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
    for (const spec of Object.values(METRIC_CATALOG)) expect(types.get(spec.name), spec.name).toBe(spec.type);
  });
});
