import { DifferadError, type GaussianPolicy, isDifferadError } from '@differad/core';
import { CPU_POLICY_MODEL, CpuPolicyServer } from '@differad/cpu-policy';
import { createVllmControl, normalizeServerUrl } from '@differad/inference';

/** The servers an evaluation talks to. */
export interface EvalBackend {
  readonly servers: readonly string[];
  readonly model: string;
  /** How the report and the console name it. */
  readonly label: string;
  close(): Promise<void>;
}

/** Starts the built-in CPU policy in this process on 127.0.0.1 and a free port, serving `policy` (default: its default policy). */
export async function startCpuBackend(seed: number, slots: number, policy?: GaussianPolicy): Promise<EvalBackend> {
  const server = await CpuPolicyServer.start({ host: '127.0.0.1', port: 0, seed, slots, ...(policy === undefined ? {} : { policy }) });
  return {
    servers: [server.url],
    model: CPU_POLICY_MODEL,
    label: `built-in CPU policy (${CPU_POLICY_MODEL}, in process, policy v${server.currentPolicy.version})`,
    close: () => server.close(),
  };
}

/** `http://a:8000,http://b:8000` → the URLs, each checked; EVAL_OPTIONS_INVALID names a bad one. */
export function parseEndpoints(list: string): string[] {
  const urls = list
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0)
    throw new DifferadError('EVAL_OPTIONS_INVALID', '--endpoint needs at least one URL', { details: { flag: '--endpoint' } });
  return urls.map((u) => {
    try {
      return normalizeServerUrl(u);
    } catch {
      throw new DifferadError('EVAL_OPTIONS_INVALID', `--endpoint: "${u}" is not an http(s) URL`, { details: { flag: '--endpoint' } });
    }
  });
}

/**
 * Checks the endpoints before any work: each must answer `/v1/models` and at
 * least one must serve `model`. All unreachable → EVAL_ENDPOINT_UNREACHABLE
 * with each reason; the model served nowhere → EVAL_MODEL_NOT_SERVED listing
 * what is served. Unreachable ones among reachable ones are warned about and
 * left to the fleet (ejected, probed back in).
 */
export async function checkEndpoints(
  urls: readonly string[],
  model: string,
  warn: (message: string) => void,
  timeoutMs = 5_000,
): Promise<EvalBackend> {
  const results = await Promise.all(
    urls.map(async (url) => {
      const control = createVllmControl({ url, timeoutMs });
      try {
        return { url, models: (await control.listModels()).map((m) => m.id), error: null };
      } catch (error) {
        // The fleet's errors name the server already.
        return {
          url,
          models: [] as string[],
          error: isDifferadError(error) && error.message.startsWith(url) ? error.message : `${url}: ${(error as Error).message}`,
        };
      } finally {
        await control.close();
      }
    }),
  );
  const reachable = results.filter((r) => r.error === null);
  if (reachable.length === 0) {
    throw new DifferadError(
      'EVAL_ENDPOINT_UNREACHABLE',
      `no endpoint answered GET /v1/models:\n${results.map((r) => `  ${r.error}`).join('\n')}`,
    );
  }
  for (const r of results) if (r.error !== null) warn(`warning: endpoint unreachable, continuing with the others: ${r.error}`);
  const serving = reachable.filter((r) => r.models.includes(model));
  if (serving.length === 0) {
    const listed = reachable.map((r) => `  ${r.url}: ${r.models.join(', ') || '(none)'}`).join('\n');
    throw new DifferadError('EVAL_MODEL_NOT_SERVED', `no endpoint serves model "${model}"; served models:\n${listed}`);
  }
  const others = reachable.filter((r) => !r.models.includes(model));
  for (const r of others) warn(`warning: endpoint ${r.url} does not serve "${model}" (it serves ${r.models.join(', ')}); not used`);
  const servers = urls.filter((u) => !others.some((r) => r.url === u));
  return { servers, model, label: `${model} at ${servers.join(', ')}`, close: async () => {} };
}
