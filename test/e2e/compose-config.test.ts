import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// `docker-compose config` validates and resolves the file without a Docker engine (Debian package docker-compose).
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}/${path}`, 'utf8');

interface Service {
  profiles?: string[];
  ports?: (string | { host_ip?: string; published?: string | number; target?: number })[];
  expose?: (string | number)[];
  networks?: Record<string, unknown> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  deploy?: { resources?: { reservations?: { devices?: { capabilities?: string[]; device_ids?: string[]; count?: number | string }[] } } };
  volumes?: (string | { source?: string; target?: string })[];
  command?: string[] | string;
  container_name?: string;
  environment?: Record<string, string | null>;
  image?: string;
  user?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
  volumes: Record<string, unknown>;
}

function composeConfig(profiles: readonly string[], env: Record<string, string> = {}): ComposeFile {
  const args = [...profiles.flatMap((p) => ['--profile', p]), '-f', `${ROOT}/docker-compose.yml`, 'config'];
  const result = spawnSync('docker-compose', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  expect(result.status, result.stderr).toBe(0);
  return parse(result.stdout) as ComposeFile;
}

/** The services `docker compose --profile …` starts: those without profiles, and those with an active one. */
function activeServices(file: ComposeFile, profiles: readonly string[]): string[] {
  return Object.entries(file.services)
    .filter(([, s]) => !s.profiles || s.profiles.length === 0 || s.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name)
    .sort();
}

const hostIp = (port: NonNullable<Service['ports']>[number]) => (typeof port === 'string' ? port.split(':')[0] : port.host_ip);
const networksOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}));
const volumeTargets = (s: Service) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));

beforeAll(() => {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('the compose tests need docker-compose: sudo apt-get install -y docker-compose');
  }
});

const PROFILES: readonly (readonly string[])[] = [[], ['cpu'], ['gpu'], ['cpu', 'gpu'], ['monitoring'], ['cpu', 'gpu', 'monitoring']];
const BASE = ['api', 'orchestrator', 'redis'];
const MONITORING = ['grafana', 'prometheus'];
const EXPECTED: Record<string, string[]> = {
  '': BASE,
  cpu: [...BASE, 'cpu-policy', 'cpu-trainer'],
  gpu: [...BASE, 'trainer', 'vllm'],
  'cpu,gpu': [...BASE, 'cpu-policy', 'cpu-trainer', 'trainer', 'vllm'],
  monitoring: [...BASE, ...MONITORING],
  'cpu,gpu,monitoring': [...BASE, 'cpu-policy', 'cpu-trainer', 'trainer', 'vllm', ...MONITORING],
};
/** The services that publish a port (on 127.0.0.1) and sit on the `edge` network. */
const PUBLISHED = ['api', 'grafana'];

describe('docker-compose.yml', () => {
  for (const profiles of PROFILES) {
    it(`is valid with profiles [${profiles.join(', ')}]: the right services, each with a healthcheck, only the API and Grafana published on 127.0.0.1`, () => {
      const file = composeConfig(profiles);
      const active = activeServices(file, profiles);
      expect(active).toEqual([...EXPECTED[profiles.join(',')]!].sort());
      for (const name of active) {
        const service = file.services[name]!;
        expect(service.healthcheck?.test, name).toEqual(expect.arrayContaining([expect.any(String)]));
        expect(service.healthcheck?.disable, name).not.toBe(true);
        if (!PUBLISHED.includes(name)) expect(service.ports ?? [], `${name} publishes nothing`).toEqual([]);
        if (!PUBLISHED.includes(name)) expect(networksOf(service), name).not.toContain('edge');
        for (const port of service.ports ?? []) expect(hostIp(port), name).toBe('127.0.0.1');
      }
      const api = file.services.api!;
      expect(api.ports).toHaveLength(1);
      expect(hostIp(api.ports![0]!)).toBe('127.0.0.1');
    });
  }

  it('keeps the dependencies, volumes and networks the cluster relies on', () => {
    const file = composeConfig(['cpu', 'gpu'], { DIFFERAD_API_PORT: '9090' });
    const { services } = file;
    expect(services.api!.ports![0]).toMatch(/^127\.0\.0\.1:9090:8080/);
    for (const name of ['api', 'orchestrator']) expect(services[name]!.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(services.redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    expect(volumeTargets(services.redis!)).toContain('/data');
    for (const name of ['api', 'orchestrator', 'cpu-policy', 'cpu-trainer'])
      expect(volumeTargets(services[name]!), name).toEqual(expect.arrayContaining(['/data', '/runs', '/checkpoints']));
    expect(Object.keys(file.volumes)).toEqual(expect.arrayContaining(['redis', 'data', 'runs', 'checkpoints']));
    expect(file.networks.backend?.internal).toBe(true);
    // Scalable workers: no fixed container name, no port.
    expect(services.orchestrator!.container_name).toBeUndefined();
    for (const name of ['vllm', 'trainer']) {
      expect(services[name]!.deploy?.resources?.reservations?.devices?.[0]?.capabilities, name).toEqual(['gpu']);
      expect(services[name]!.profiles).toEqual(['gpu']);
    }
    // vLLM and the trainer on distinct GPUs, chosen by device id, never a shared `count: 1`.
    const gpus = (env: Record<string, string>) =>
      ['vllm', 'trainer'].map((name) => composeConfig(['gpu'], env).services[name]!.deploy!.resources!.reservations!.devices![0]!);
    const [vllmGpu, trainerGpu] = gpus({});
    expect(vllmGpu?.device_ids).toEqual(['0']);
    expect(trainerGpu?.device_ids).toEqual(['1']);
    expect(vllmGpu?.count ?? trainerGpu?.count).toBeUndefined();
    expect(gpus({ DIFFERAD_VLLM_GPU: '2', DIFFERAD_TRAINER_GPU: '3' }).map((d) => d.device_ids)).toEqual([['2'], ['3']]);
    expect(services['cpu-policy']!.command).toEqual(expect.arrayContaining(['policy', 'serve']));
    expect(services['cpu-trainer']!.command).toEqual(expect.arrayContaining(['trainer', 'serve', '--cpu']));
    expect(services.vllm!.expose).toEqual(['8000']);
  });
});

describe('the monitoring profile', () => {
  let file: ComposeFile;
  let services: ComposeFile['services'];
  beforeAll(() => {
    file = composeConfig(['cpu', 'gpu', 'monitoring'], { DIFFERAD_GRAFANA_PORT: '3300' });
    services = file.services;
  });

  it('runs pinned Prometheus and Grafana images as non-root users, off by default', () => {
    expect(services.prometheus!.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(services.grafana!.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    for (const name of MONITORING) {
      expect(services[name]!.profiles, name).toEqual(['monitoring']);
      expect(services[name]!.user, name).toMatch(/^[1-9]\d*(:\d+)?$/);
    }
  });

  it('mounts the scrape config and the Grafana provisioning of the repository read-only, and keeps Prometheus internal', () => {
    const mounts = (name: string) => (services[name]!.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
    expect(mounts('prometheus')).toContain(`${ROOT}deploy/monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro`);
    expect(mounts('grafana')).toEqual(
      expect.arrayContaining([
        `${ROOT}deploy/monitoring/grafana/provisioning:/etc/grafana/provisioning:ro`,
        `${ROOT}deploy/monitoring/grafana/dashboards:/etc/grafana/dashboards:ro`,
      ]),
    );
    expect(networksOf(services.prometheus!)).toEqual(['backend']);
    expect(services.grafana!.ports).toEqual(['127.0.0.1:3300:3000/tcp']);
    expect(services.grafana!.depends_on).toEqual({ prometheus: { condition: 'service_healthy' } });
    expect(Object.keys(file.volumes)).toEqual(expect.arrayContaining(['prometheus', 'grafana']));
  });

  it('gives the API and the workers the metrics port that prometheus.yml scrapes, on every interface of the container', () => {
    const scrape = parse(read('deploy/monitoring/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const portOf = (service: string) => scrape.scrape_configs.flatMap((j) => j.dns_sd_configs).find((d) => d.names.includes(service))?.port;
    for (const name of ['api', 'orchestrator']) {
      expect(services[name]!.environment, name).toMatchObject({
        DIFFERAD_METRICS_HOST: '0.0.0.0',
        DIFFERAD_METRICS_PORT: String(portOf(name)),
      });
    }
    // The model servers and trainers are scraped where they serve their API.
    expect(portOf('vllm')).toBe(Number(services.vllm!.expose![0]));
    expect(portOf('trainer')).toBe(Number(services.trainer!.expose![0]));
    expect(portOf('cpu-policy')).toBe(8100);
    expect(portOf('cpu-trainer')).toBe(8200);
  });
});

describe('the images', () => {
  it("pins vLLM ≥ 0.22 at the trainer's version, in dev mode, without a disk weight-transfer engine", () => {
    const dockerfile = read('docker/vllm/Dockerfile');
    const tag = dockerfile.match(/^FROM vllm\/vllm-openai:v(\d+)\.(\d+)\.(\d+)$/m);
    expect(tag).not.toBeNull();
    expect(Number(tag![1]) > 0 || Number(tag![2]) >= 22).toBe(true);
    expect(read('docker/trainer/requirements.txt')).toContain(`vllm==${tag![1]}.${tag![2]}.${tag![3]}`);
    expect(dockerfile).toContain('VLLM_SERVER_DEV_MODE=1');
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health/m);
    const entrypoint = read('docker/vllm/entrypoint.sh');
    expect(entrypoint).toContain('--api-server-count 1');
    // vLLM 0.32.0 registers no "disk" weight-transfer engine: such a config stops the server at start (docs/vllm-protocol.md §1).
    expect(dockerfile).not.toContain('"backend":"disk"');
  });

  it("generates the vLLM flags in one place: processed log-probs, the trainer's pixel bounds, a weight-transfer engine only for nccl", () => {
    const serve = (env: Record<string, string>) =>
      spawnSync('bash', [`${ROOT}/docker/vllm/entrypoint.sh`, '--tensor-parallel-size', '2'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', DIFFERAD_VLLM_DRY_RUN: '1', DIFFERAD_VLLM_MODEL: 'Qwen/Qwen2.5-VL-3B-Instruct', ...env },
      });
    const disk = serve({});
    expect(disk.status, disk.stderr).toBe(0);
    expect(disk.stdout).toContain('--logprobs-mode processed_logprobs');
    expect(disk.stdout).toContain('--mm-processor-kwargs \\{\\"min_pixels\\":3136\\,\\"max_pixels\\":401408\\}');
    expect(disk.stdout).not.toContain('--weight-transfer-config');
    expect(disk.stdout.trim().endsWith('--tensor-parallel-size 2')).toBe(true);
    const nccl = serve({ DIFFERAD_SYNC_BACKEND: 'nccl', DIFFERAD_MIN_PIXELS: '1024', DIFFERAD_MAX_PIXELS: '2048' });
    expect(nccl.stdout).toContain('--weight-transfer-config \\{\\"backend\\":\\"nccl\\"\\}');
    expect(nccl.stdout).toContain('\\"min_pixels\\":1024');
    expect(serve({ DIFFERAD_SYNC_BACKEND: 'disk2' }).status).toBe(2);
    // compose feeds the same variables to vLLM and the trainer.
    const file = composeConfig(['gpu'], { DIFFERAD_MIN_PIXELS: '1024', DIFFERAD_SYNC_BACKEND: 'nccl' });
    expect(file.services.vllm!.environment).toMatchObject({
      DIFFERAD_MIN_PIXELS: '1024',
      DIFFERAD_MAX_PIXELS: '401408',
      DIFFERAD_SYNC_BACKEND: 'nccl',
    });
    expect(file.services.trainer!.environment).toMatchObject({
      DIFFERAD_TRAINER_MIN_PIXELS: '1024',
      DIFFERAD_TRAINER_MAX_PIXELS: '401408',
    });
  });

  it('builds the orchestrator image on a pinned Node 20 slim base with production dependencies, as a non-root user', () => {
    const dockerfile = read('docker/orchestrator/Dockerfile');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(read('docker/orchestrator/Dockerfile.dockerignore')).toMatch(/^\*\*\/node_modules$/m);
  });
});
