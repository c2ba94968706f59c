import { createHash } from 'node:crypto';
import type { TrainConfig } from '@differad/config';
import { createRng, isDifferadError, toPairMessages, toPairPrompt } from '@differad/core';
import { drawExamplePair, encodeRawImage } from '@differad/images';
import { createVllmControl, INFERENCE_ERROR_CODES, parseChatResponseText, toChatRequestBody, type VllmControl } from '@differad/inference';
import { syncRunWeights } from '@differad/orchestrator';
import { createTrainerClient, type HealthResponse, type TrainerClient, type TrainerImage } from '@differad/trainer-client';
import {
  AGREEMENT_TEMPERATURE,
  type DoctorCheck,
  FIXES,
  judgeAgreement,
  judgeDevMode,
  judgeLogprobsMode,
  judgeServedModel,
  judgeServerVersion,
  judgeSync,
  judgeTrainer,
  judgeVersion,
  judgeWeightTransfer,
  judgeWorldSize,
  parseServedRoots,
  parseServerSettings,
  type ServerSettings,
  toSkipped,
} from './doctor-verdicts.js';

/** Settings of {@link runDoctor}. */
export interface DoctorOptions {
  /** Deadline of each probe (ms); the chat request and the weight sync get longer ones. */
  readonly timeoutMs: number;
  /** Run the weight-sync round trip (it pauses the servers and loads the trainer's current weights). */
  readonly sync: boolean;
}

type EndpointsPolicy = Extract<TrainConfig['policy'], { kind: 'endpoints' }>;

/** What one server's probes found. */
interface ServerView {
  readonly url: string;
  readonly rows: DoctorCheck[];
  /** Reachable and serving policy.model: the agreement check can sample from it. */
  readonly serves: boolean;
  readonly devMode: boolean;
  readonly settings: ServerSettings | null;
  /** What `/v1/models` says policy.model is loaded from (its `root`). */
  readonly roots: readonly string[];
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const statusOf = (error: unknown): number | null =>
  isDifferadError(error) && error.code === INFERENCE_ERROR_CODES.HTTP_ERROR && typeof error.details.status === 'number'
    ? error.details.status
    : null;

/** Reachability, version, served model, dev mode, world size, logprobs mode and weight-transfer backend of one server. */
async function inspectServer(control: VllmControl, policy: EndpointsPolicy, timeoutMs: number): Promise<ServerView> {
  const url = control.url;
  const rows: DoctorCheck[] = [];
  const later = ['version', 'model', 'dev mode', 'world size', 'logprobs mode', 'weight transfer'];
  try {
    const version = await control.version();
    rows.push({ check: 'reachable', target: url, status: 'pass', detail: 'GET /version answers', fix: null }, judgeVersion(url, version));
  } catch (error) {
    rows.push(
      { check: 'reachable', target: url, status: 'fail', detail: messageOf(error), fix: FIXES.unreachable },
      ...later.map((c) => toSkipped(c, url, 'not reachable')),
    );
    return { url, rows, serves: false, devMode: false, settings: null, roots: [] };
  }
  const served = await control.listModels().then(
    (models) => models.map((m) => m.id),
    (error: unknown) => messageOf(error),
  );
  const modelRow =
    typeof served === 'string'
      ? { ...judgeServedModel(url, [], policy.model), detail: served }
      : judgeServedModel(url, served, policy.model);
  rows.push(modelRow);
  // listModels keeps the ids only; the roots are what the trainer's model may be called instead.
  const roots =
    modelRow.status === 'pass'
      ? await fetch(`${url}/v1/models`, { signal: AbortSignal.timeout(timeoutMs) })
          .then(async (res) => parseServedRoots(await res.json(), policy.model))
          .catch(() => [])
      : [];
  let worldSize: number | null = null;
  let failure: { status: number | null; message: string } | null = null;
  try {
    worldSize = await control.getWorldSize();
  } catch (error) {
    failure = { status: statusOf(error), message: messageOf(error) };
  }
  rows.push(judgeDevMode(url, failure));
  if (worldSize === null) {
    rows.push(...['world size', 'logprobs mode', 'weight transfer'].map((c) => toSkipped(c, url, 'no dev routes')));
    return { url, rows, serves: modelRow.status === 'pass', devMode: false, settings: null, roots };
  }
  const settings = await control.serverInfo().then(parseServerSettings, () => null);
  rows.push(
    judgeWorldSize(url, worldSize, settings?.worldSize ?? null),
    judgeLogprobsMode(url, settings?.logprobsMode ?? null),
    settings === null
      ? toSkipped('weight transfer', url, '/server_info unreadable')
      : judgeWeightTransfer(url, policy.syncBackend, settings.weightTransferBackend),
  );
  return { url, rows, serves: modelRow.status === 'pass', devMode: true, settings, roots };
}

/** A small reference/target pair (an example bottle with a stain), as data URLs and as trainer images. */
async function createDoctorPair(): Promise<{
  dataUrls: [string, string];
  images: TrainerImage[];
  size: { width: number; height: number };
}> {
  const size = { width: 112, height: 112 };
  const pair = drawExamplePair(createRng('differad-doctor'), 'bottle', size.width, size.height, true);
  const encoded = await Promise.all([pair.reference, pair.target].map((image) => encodeRawImage(image, 'png')));
  const data = encoded.map((bytes) => bytes.toString('base64'));
  return {
    dataUrls: [`data:image/png;base64,${data[0]}`, `data:image/png;base64,${data[1]}`],
    images: encoded.map((bytes, k) => ({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      data: data[k]!,
      media_type: 'image/png' as const,
    })),
    size,
  };
}

/**
 * One completion at T = 0.9 (top-p 1, top-k off: the trainer scores logits / T
 * and nothing else) with log-probs and token ids, scored by the trainer. Up to
 * the run's own `sampling.maxTokens`, as training samples: a shorter cut can
 * leave an answer the trainer cannot score at all (the CPU policy writes its
 * sampled parameters in full before anything else counts).
 */
async function checkAgreement(
  server: ServerView,
  trainer: TrainerClient,
  config: TrainConfig,
  policy: EndpointsPolicy,
  timeoutMs: number,
): Promise<DoctorCheck> {
  const pair = await createDoctorPair();
  const prompt = toPairPrompt({
    family: policy.family,
    frame: policy.frame,
    size: pair.size,
    id: 'differad-doctor',
    seed: config.run.seed,
  });
  const body = toChatRequestBody(policy.model, {
    referenceImage: pair.dataUrls[0],
    targetImage: pair.dataUrls[1],
    prompt: prompt.prompt,
    system: prompt.system,
    n: 1,
    sampling: { temperature: AGREEMENT_TEMPERATURE, topP: 1, topK: -1, maxTokens: config.sampling.maxTokens },
    seed: config.run.seed,
  });
  const fail = (detail: string): DoctorCheck => ({
    check: 'log-prob agreement',
    target: server.url,
    status: 'fail',
    detail,
    fix: FIXES.unscorable,
  });
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) return fail(`the chat request failed: HTTP ${res.status}: ${text.slice(0, 300)}`);
  const parsed = parseChatResponseText(text, { n: 1, logprobs: true, tokenIds: true });
  if (parsed === null) return fail(`the chat response is not JSON: ${text.slice(0, 300)}`);
  if (parsed.kind === 'invalid') return fail(`the chat response is not usable: ${parsed.field}: ${parsed.message}`);
  const choice = parsed.choices[0]!;
  const scored = await trainer.scoreTokens({
    temperature: AGREEMENT_TEMPERATURE,
    images: pair.images,
    messages: toPairMessages(prompt),
    prompt_token_ids: parsed.promptTokenIds === null ? null : [...parsed.promptTokenIds],
    completions: [{ text: choice.text, token_ids: [...(choice.tokenIds ?? [])] }],
  });
  return judgeAgreement(
    server.url,
    { serverLogprobs: choice.logprobs ?? [], trainerLogprobs: scored.logprobs[0] ?? null, promptTokensMatch: scored.prompt_tokens_match },
    server.settings?.logprobsMode ?? null,
  );
}

/** One sync of the trainer's current version with the configured backend (the run's own code), then each server's version label. */
async function checkSync(
  servers: readonly ServerView[],
  config: TrainConfig,
  policy: EndpointsPolicy,
  trainerUrl: string,
  version: number,
): Promise<DoctorCheck[]> {
  const backend = policy.syncBackend === 'nccl' ? 'nccl' : 'disk';
  // Weight transfers are slow: the run's own deadlines, not the probes'.
  const trainer = createTrainerClient({ baseUrl: trainerUrl, timeoutMs: 600_000 });
  const targets = servers.map((s) => ({ url: s.url, control: createVllmControl({ url: s.url }) }));
  try {
    const error = await syncRunWeights({ config, trainer, targets }, version, { group: null }).then(
      () => null,
      (e: unknown) => messageOf(e),
    );
    const rows = [judgeSync(backend, version, servers.length, error)];
    if (error === null) {
      for (const t of targets) rows.push(judgeServerVersion(t.url, version, await t.control.weightInfo().catch(() => null)));
    }
    return rows;
  } finally {
    await Promise.all([trainer.close(), ...targets.map((t) => t.control.close())]);
  }
}

/** The trainer's health, or the row of why it has none. */
async function askTrainer(trainer: TrainerClient): Promise<HealthResponse | DoctorCheck> {
  try {
    return await trainer.health();
  } catch (error) {
    return { check: 'health', target: `trainer ${trainer.url}`, status: 'fail', detail: messageOf(error), fix: FIXES.trainerUnreachable };
  }
}

/** The trainer's rows, judged once the servers said what policy.model is loaded from. */
function inspectTrainer(
  trainer: TrainerClient,
  asked: HealthResponse | DoctorCheck,
  policyModel: string | null,
  servers: readonly ServerView[],
): { rows: DoctorCheck[]; health: HealthResponse | null } {
  if ('check' in asked) return { rows: [asked], health: null };
  return {
    rows: judgeTrainer(
      `trainer ${trainer.url}`,
      asked,
      policyModel,
      servers.flatMap((s) => s.roots),
    ),
    health: asked.status === 'ok' ? asked : null,
  };
}

/**
 * Runs every check of `differad doctor` against the servers and the trainer a
 * training config names: per server, then the trainer, then per server the
 * log-prob agreement, then one weight sync. A check that cannot run because
 * an earlier one failed is reported as skipped.
 */
export async function runDoctor(config: TrainConfig, options: DoctorOptions): Promise<DoctorCheck[]> {
  const policy = config.policy.kind === 'endpoints' ? config.policy : null;
  const trainerUrl = config.trainer.kind === 'url' ? config.trainer.url : null;
  const rows: DoctorCheck[] = [];
  if (policy === null) rows.push(toSkipped('servers', 'policy.kind cpu', 'differad train starts the built-in CPU policy itself'));
  if (trainerUrl === null) rows.push(toSkipped('trainer', 'trainer.kind cpu', 'differad train starts the built-in CPU trainer itself'));
  const controls = (policy?.endpoints ?? []).map((url) => createVllmControl({ url, timeoutMs: options.timeoutMs }));
  const trainer = trainerUrl === null ? null : createTrainerClient({ baseUrl: trainerUrl, timeoutMs: Math.max(options.timeoutMs, 60_000) });
  try {
    const [servers, asked] = await Promise.all([
      Promise.all(controls.map((c) => inspectServer(c, policy!, options.timeoutMs))),
      trainer === null ? null : askTrainer(trainer),
    ]);
    const trained = trainer === null || asked === null ? null : inspectTrainer(trainer, asked, policy?.model ?? null, servers);
    rows.push(...servers.flatMap((s) => s.rows), ...(trained?.rows ?? []));
    if (policy === null || trainer === null || trainerUrl === null) return rows;
    const health = trained?.health ?? null;
    for (const server of servers) {
      if (!server.serves || health === null) {
        rows.push(
          toSkipped('log-prob agreement', server.url, health === null ? 'the trainer is not ready' : 'the server does not serve the model'),
        );
        continue;
      }
      rows.push(
        await checkAgreement(server, trainer, config, policy, Math.max(options.timeoutMs, 120_000)).catch((error: unknown) => ({
          ...judgeAgreement(server.url, { serverLogprobs: [], trainerLogprobs: null, promptTokensMatch: null }, null),
          detail: messageOf(error),
        })),
      );
    }
    const target = `trainer → ${servers.length} server(s)`;
    if (policy.syncBackend === 'none') rows.push(toSkipped('weight sync', target, 'policy.syncBackend is none'));
    else if (!options.sync) rows.push(toSkipped('weight sync', target, '--no-sync'));
    else if (health === null || servers.some((s) => !s.devMode))
      rows.push(toSkipped('weight sync', target, 'needs the trainer ready and every server in dev mode'));
    else rows.push(...(await checkSync(servers, config, policy, trainerUrl, health.weight_version)));
    return rows;
  } finally {
    await Promise.all([...controls.map((c) => c.close()), trainer?.close()]);
  }
}
