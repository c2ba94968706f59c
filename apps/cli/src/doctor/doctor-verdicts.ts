/**
 * `differad doctor`'s decisions, apart from I/O: what each observation means,
 * and which fix to print for which failure. The checks follow the pinned
 * protocol (docs/vllm-protocol.md); run-doctor.ts gathers the observations.
 */
import { z } from 'zod';

/** The vLLM release whose protocol differad speaks (docs/vllm-protocol.md). */
export const PINNED_VLLM_VERSION = '0.32.0';

/**
 * Largest mean |log π_trainer − log π_vLLM| per sampled token, in nats. The
 * same weights in bf16 on two engines (different kernels, batch shapes)
 * differ by about 0.01 per token; log-probs before temperature (vLLM's
 * default raw_logprobs) at T = 0.9 differ by |log p·(1 − 1/T) + Δ log Z|,
 * tenths of a nat on typical tokens, and another checkpoint or image
 * processing by far more. 0.05 sits between.
 */
export const AGREEMENT_TOLERANCE_NATS = 0.05;

/** The temperature of the agreement request: not 1, where raw and processed log-probs coincide. */
export const AGREEMENT_TEMPERATURE = 0.9;

export type CheckStatus = 'pass' | 'fail' | 'skip';

/** One row of the report. */
export interface DoctorCheck {
  /** What was checked: `reachable`, `version`, `model`, `dev mode`, `logprobs mode`, … */
  readonly check: string;
  /** A server URL, `trainer <url>`, or `all servers`. */
  readonly target: string;
  readonly status: CheckStatus;
  /** What was seen. */
  readonly detail: string;
  /** What to change, for a failure. */
  readonly fix: string | null;
}

export const FIXES = {
  unreachable: 'start the server, or correct its URL in the config; a firewall must let this host reach it',
  version: `run vLLM ${PINNED_VLLM_VERSION} (docker/vllm pins vllm/vllm-openai:v${PINNED_VLLM_VERSION}); differad speaks that release's protocol`,
  devMode: "set VLLM_SERVER_DEV_MODE=1 in the vLLM server's environment (the pause, reload and weight-transfer routes exist only then)",
  logprobsMode: 'start vLLM with --logprobs-mode processed_logprobs (the default raw_logprobs reports log-probs before temperature)',
  weightTransfer: 'start vLLM with --weight-transfer-config \'{"backend":"nccl"}\' (docker/vllm does it for DIFFERAD_SYNC_BACKEND=nccl)',
  trainerStarting: 'wait until the trainer has loaded its model (health says "starting" until then), then run doctor again',
  trainerUnreachable: 'start the trainer, or correct trainer.url in the config',
  prompt:
    "give vLLM --mm-processor-kwargs with the trainer's min/max pixels (DIFFERAD_MIN_PIXELS/DIFFERAD_MAX_PIXELS) and serve the trainer's checkpoint: the two tokenize the prompt differently",
  unscorable: 'serve the checkpoint the trainer trains: the trainer cannot score the tokens this server sampled',
  disagree:
    "serve the trainer's checkpoint with the same dtype on both sides, with --logprobs-mode processed_logprobs, and sync the weights before sampling",
  syncDisk:
    "every vLLM server must read the trainer's weights folder at the same path (a shared filesystem, DIFFERAD_TRAINER_WEIGHTS_DIR), and run in dev mode",
  syncNccl:
    'start vLLM with --weight-transfer-config \'{"backend":"nccl"}\', and let every server reach the trainer\'s host on the NCCL port (29600) and the NCCL ports beyond it',
  syncVersion: 'the server did not record the version of the update: check the vLLM logs of finish_weight_update / update_weight_version',
} as const;

const pass = (check: string, target: string, detail: string): DoctorCheck => ({ check, target, status: 'pass', detail, fix: null });
const fail = (check: string, target: string, detail: string, fix: string): DoctorCheck => ({ check, target, status: 'fail', detail, fix });

/** A row for a check that could not run because an earlier one failed. */
export function toSkipped(check: string, target: string, because: string): DoctorCheck {
  return { check, target, status: 'skip', detail: because, fix: null };
}

/** `GET /version`: differad's control calls are the pinned release's. */
export function judgeVersion(target: string, version: string): DoctorCheck {
  return version === PINNED_VLLM_VERSION
    ? pass('version', target, version)
    : fail('version', target, `${version}, not ${PINNED_VLLM_VERSION}`, FIXES.version);
}

/** `GET /v1/models` must list the config's `policy.model`. */
export function judgeServedModel(target: string, served: readonly string[], model: string): DoctorCheck {
  if (served.includes(model)) return pass('model', target, model);
  const fix = `serve it as "${model}" (vllm serve … --served-model-name ${model}) or set policy.model to ${served.length > 0 ? served.map((m) => `"${m}"`).join(' or ') : 'the served name'}`;
  return fail('model', target, `serves ${served.length > 0 ? served.join(', ') : 'no model'}, not "${model}"`, fix);
}

/** A dev route (`/get_world_size`) answering 404 means VLLM_SERVER_DEV_MODE is off; `failure` null: it answered. */
export function judgeDevMode(target: string, failure: { readonly status: number | null; readonly message: string } | null): DoctorCheck {
  if (failure === null) return pass('dev mode', target, 'dev routes answer');
  if (failure.status === 404) return fail('dev mode', target, 'GET /get_world_size is 404: VLLM_SERVER_DEV_MODE is off', FIXES.devMode);
  return fail('dev mode', target, failure.message, "see the vLLM server's log: the dev route GET /get_world_size failed");
}

/** What `/server_info?config_format=json` says about the settings differad depends on. */
export interface ServerSettings {
  readonly logprobsMode: string | null;
  /** null: no `--weight-transfer-config` (no engine). */
  readonly weightTransferBackend: string | null;
  /** TP × PP × DP, when the parallel sizes are there. */
  readonly worldSize: number | null;
}

const ServerInfoSchema = z.looseObject({
  vllm_config: z.looseObject({
    model_config: z.looseObject({ logprobs_mode: z.string().nullish() }).nullish(),
    parallel_config: z
      .looseObject({
        tensor_parallel_size: z.number().int(),
        pipeline_parallel_size: z.number().int().nullish(),
        data_parallel_size: z.number().int().nullish(),
      })
      .nullish(),
    weight_transfer_config: z.looseObject({ backend: z.string() }).nullish(),
  }),
});

/** Reads {@link ServerSettings} out of `/server_info`'s JSON (PydanticVllmConfig.dump_python); null when it has not that shape. */
export function parseServerSettings(json: unknown): ServerSettings | null {
  const parsed = ServerInfoSchema.safeParse(json);
  if (!parsed.success) return null;
  const c = parsed.data.vllm_config;
  const p = c.parallel_config;
  return {
    logprobsMode: c.model_config?.logprobs_mode ?? null,
    weightTransferBackend: c.weight_transfer_config?.backend ?? null,
    worldSize: p ? p.tensor_parallel_size * (p.pipeline_parallel_size ?? 1) * (p.data_parallel_size ?? 1) : null,
  };
}

/** GRPO's ratio needs the log-probs of the distribution sampled from: `processed_logprobs`. */
export function judgeLogprobsMode(target: string, mode: string | null): DoctorCheck {
  if (mode === 'processed_logprobs') return pass('logprobs mode', target, mode);
  return fail('logprobs mode', target, mode === null ? '/server_info does not say' : mode, FIXES.logprobsMode);
}

/**
 * The backend the config's `policy.syncBackend` needs: `nccl` needs the nccl
 * weight-transfer engine; `disk` reloads with collective_rpc and needs none
 * (docs/vllm-protocol.md §4.2); `none` never syncs.
 */
export function judgeWeightTransfer(target: string, syncBackend: 'disk' | 'nccl' | 'none', backend: string | null): DoctorCheck {
  const seen = backend === null ? 'no --weight-transfer-config' : `backend ${backend}`;
  if (syncBackend !== 'nccl') return pass('weight transfer', target, `${seen} (syncBackend ${syncBackend} needs no engine)`);
  return backend === 'nccl'
    ? pass('weight transfer', target, seen)
    : fail('weight transfer', target, `${seen}, but syncBackend is nccl`, FIXES.weightTransfer);
}

/** `/get_world_size` (the NCCL ranks the server occupies) against TP × PP × DP from `/server_info`, when known. */
export function judgeWorldSize(target: string, worldSize: number, configured: number | null): DoctorCheck {
  if (configured === null || configured === worldSize) return pass('world size', target, `${worldSize} rank(s) (TP × PP × DP)`);
  return fail(
    'world size',
    target,
    `/get_world_size says ${worldSize}, the parallel config ${configured}`,
    'start vLLM with --api-server-count 1 so control calls reach the process that owns the engine',
  );
}

/** The trainer's model and the served one: the same name, or the same last path segment (`Qwen/Qwen2.5-VL-7B-Instruct` ~ `Qwen2.5-VL-7B-Instruct`). */
export function isSameModel(trainerModel: string, servedModel: string): boolean {
  const last = (name: string) => name.replace(/\/+$/, '').split('/').pop() ?? name;
  return trainerModel === servedModel || last(trainerModel) === last(servedModel);
}

/** What `/v1/health` says. */
export interface TrainerHealthView {
  readonly status: string;
  readonly backend: string;
  readonly model: string;
  readonly world_size: number;
  readonly step: number | null;
  readonly weight_version: number;
  /** Optional parts of the API it understands (`packed_completions`); absent from older trainers. */
  readonly features?: readonly string[] | undefined;
}

const ModelRootsSchema = z.looseObject({ data: z.array(z.looseObject({ id: z.string(), root: z.string().nullish() })) });

/**
 * What `GET /v1/models` says each served name is loaded from (vLLM's ModelCard
 * `root`: the `vllm serve <model>` path or id behind `--served-model-name`),
 * for `model`; empty when the body has no roots.
 */
export function parseServedRoots(json: unknown, model: string): string[] {
  const parsed = ModelRootsSchema.safeParse(json);
  if (!parsed.success) return [];
  return parsed.data.data.flatMap((m) => (m.id === model && typeof m.root === 'string' && m.root !== '' ? [m.root] : []));
}

/**
 * The trainer's health row and its model row. The trainer trains the served
 * model when its model is `policyModel` or what the servers load it from
 * (`servedRoots`: a `--served-model-name` alias of the trainer's checkpoint).
 */
export function judgeTrainer(
  target: string,
  health: TrainerHealthView,
  policyModel: string | null,
  servedRoots: readonly string[] = [],
): DoctorCheck[] {
  // Without packed_completions the step job sends token ids and log-probs as JSON arrays (slower to parse), which still works.
  const features = health.features?.length ? health.features.join(', ') : 'none (completions go as JSON arrays)';
  const detail = `${health.status} · ${health.backend} · world size ${health.world_size} · step ${health.step ?? '—'} · weight version ${health.weight_version} · features ${features}`;
  const rows = [health.status === 'ok' ? pass('health', target, detail) : fail('health', target, detail, FIXES.trainerStarting)];
  if (policyModel !== null) {
    const root = servedRoots.find((r) => isSameModel(health.model, r));
    rows.push(
      isSameModel(health.model, policyModel)
        ? pass('model', target, health.model)
        : root !== undefined
          ? pass('model', target, `${health.model} (served as "${policyModel}" from ${root})`)
          : fail(
              'model',
              target,
              `trains "${health.model}", the servers serve "${policyModel}"${servedRoots.length > 0 ? ` from ${[...new Set(servedRoots)].join(', ')}` : ''}`,
              `point the trainer and the servers at the same checkpoint (DIFFERAD_TRAINER_MODEL, vllm serve <model> --served-model-name ${policyModel})`,
            ),
    );
  }
  return rows;
}

/** One sampled completion and the trainer's scores of its tokens. */
export interface AgreementSample {
  /** The server's sampling log-probs, one per token. */
  readonly serverLogprobs: readonly number[];
  /** The trainer's, or null when it could not score the completion. */
  readonly trainerLogprobs: readonly number[] | null;
  /** The trainer's prompt tokenization equals the server's (null: not checked). */
  readonly promptTokensMatch: boolean | null;
}

/** Mean and largest |Δ| per token, in nats. */
export function computeLogprobGap(server: readonly number[], trainer: readonly number[]): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  const n = Math.min(server.length, trainer.length);
  for (let t = 0; t < n; t++) {
    const gap = Math.abs(server[t]! - trainer[t]!);
    sum += gap;
    max = Math.max(max, gap);
  }
  return { mean: n > 0 ? sum / n : 0, max };
}

/**
 * Whether the trainer scores the server's samples as the server did: mean
 * |log π_trainer − log π_vLLM| per token within `tolerance`. The fix names
 * the likeliest cause: the prompt differs, the trainer cannot score the
 * tokens, the server reports raw log-probs, or the weights differ.
 */
export function judgeAgreement(
  target: string,
  sample: AgreementSample,
  serverLogprobsMode: string | null,
  tolerance = AGREEMENT_TOLERANCE_NATS,
): DoctorCheck {
  const check = 'log-prob agreement';
  if (sample.trainerLogprobs === null) return fail(check, target, 'the trainer could not score the sampled tokens', FIXES.unscorable);
  if (sample.trainerLogprobs.length !== sample.serverLogprobs.length) {
    return fail(
      check,
      target,
      `the trainer scored ${sample.trainerLogprobs.length} tokens, the server sampled ${sample.serverLogprobs.length}`,
      FIXES.unscorable,
    );
  }
  const { mean, max } = computeLogprobGap(sample.serverLogprobs, sample.trainerLogprobs);
  const detail = `mean |Δ| ${mean.toFixed(4)} nats/token over ${sample.serverLogprobs.length} tokens (max ${max.toFixed(4)}; tolerance ${tolerance})`;
  if (sample.promptTokensMatch === false) return fail(check, target, `the prompt token ids differ; ${detail}`, FIXES.prompt);
  if (mean <= tolerance) return pass(check, target, detail);
  const rawMode = serverLogprobsMode !== null && serverLogprobsMode !== 'processed_logprobs';
  return fail(check, target, detail, rawMode ? FIXES.logprobsMode : FIXES.disagree);
}

/** The weight-sync round trip: an error message (null: it went through) and the fix for the backend. */
export function judgeSync(syncBackend: 'disk' | 'nccl', version: number, servers: number, error: string | null): DoctorCheck {
  const target = `trainer → ${servers} server(s)`;
  if (error === null) return pass('weight sync', target, `${syncBackend} sync of version ${version} done on every server`);
  return fail('weight sync', target, error, syncBackend === 'nccl' ? FIXES.syncNccl : FIXES.syncDisk);
}

/** After a sync, `/weight_info` must name the version sent (nccl: finish_weight_update's `weight_version`; disk: update_weight_version's `new_version`). */
export function judgeServerVersion(target: string, version: number, reported: string | null): DoctorCheck {
  return reported === String(version)
    ? pass('weight version', target, `reports ${reported}`)
    : fail('weight version', target, `reports ${reported ?? 'none'}, not ${version}`, FIXES.syncVersion);
}

/** 0 when nothing failed, 2 otherwise (1, wrong usage, is commander's). */
export function toDoctorExitCode(checks: readonly DoctorCheck[]): 0 | 2 {
  return checks.some((c) => c.status === 'fail') ? 2 : 0;
}
