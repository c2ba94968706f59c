import { LOGPROBS_MODES, type NcclTransport, WEIGHT_TRANSFER_BACKENDS } from '@differad/inference';
import { z } from 'zod';
import { ANSWER_POLICIES, type BoxLookup } from './answer-policy.js';

const rate = () => z.number().min(0).max(1);

/** Injected faults; every rate is a probability per chat request, drawn from the server's seeded generator. */
export const FakeFaultsSchema = z.strictObject({
  /** Answer HTTP 500 at once. */
  errorRate: rate().default(0),
  /** Never answer (the request holds no slot; it ends when the client gives up or the server closes). */
  hangRate: rate().default(0),
  /** Multiplies every request's service time. */
  slowFactor: z.number().positive().max(1000).default(1),
  /** Replace a choice's text with garbage (still a well-formed response). */
  garbageRate: rate().default(0),
  /** Destroy the socket halfway through the request's service time. */
  dieRate: rate().default(0),
  /** Send a response that breaks the API schema (choice 0 without `message`). */
  malformedRate: rate().default(0),
  /** `/health` answers 503. */
  unhealthy: z.boolean().default(false),
});
export type FakeFaults = z.infer<typeof FakeFaultsSchema>;

/** Settings of a fake vLLM server; every field has a default. */
export const FakeVllmSettingsSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; the server reports the one it got. */
  port: z.number().int().min(0).max(65_535).default(0),
  /** The served model name; requests naming another model get 404 like vLLM. */
  model: z.string().min(1).default('differad-fake'),
  /** Sequences decoded at once. */
  slots: z.number().int().min(1).max(100_000).default(8),
  /** Decode rate of one sequence, tokens per second. */
  tokensPerSecond: z.number().positive().default(200),
  /** Prefill cost per image in the request, milliseconds. */
  prefillMsPerImage: z.number().min(0).default(5),
  policy: z.enum(ANSWER_POLICIES).default('noisy'),
  /** The text of the `constant` policy. */
  constantText: z.string().optional(),
  /** Jitter of the `noisy` policy, norm1000 units. */
  noise: z.number().min(0).max(1000).default(40),
  /** Seeds the fault draws and the answers of requests without a seed. */
  seed: z.union([z.number(), z.string()]).default(0),
  maxModelLen: z.number().int().min(16).default(8192),
  /** Largest request body accepted; a larger one gets 413 (vLLM's error shape). */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /**
   * Stricter than vLLM: reject a chat request that leaves any of n, temperature,
   * top_p, top_k, max_tokens or seed to the server's defaults (docs/method.md §7).
   */
  requireExplicitSampling: z.boolean().default(false),
  /** `VLLM_SERVER_DEV_MODE=1`: the pause and weight-transfer routes exist (off: 404, as on vLLM). */
  devMode: z.boolean().default(true),
  /** `--weight-transfer-config {"backend": …}`; null (vLLM without the flag): no engine, init/start/update/finish fail. */
  weightTransferBackend: z.enum(WEIGHT_TRANSFER_BACKENDS).nullable().default(null),
  /** TP × PP, what `/get_world_size?include_dp=false` answers. */
  tensorParallel: z.number().int().min(1).max(64).default(1),
  dataParallel: z.number().int().min(1).max(64).default(1),
  /**
   * `--logprobs-mode`; vLLM's default `raw_logprobs` reports log-probs before
   * temperature (here: the processed value × temperature), `processed_logprobs`
   * those of the distribution sampled from (docs/vllm-protocol.md §1).
   */
  logprobsMode: z.enum(LOGPROBS_MODES).default('raw_logprobs'),
  faults: FakeFaultsSchema.prefault({}),
});
export type FakeVllmSettings = z.infer<typeof FakeVllmSettingsSchema>;

/** Options of `startFakeVllm`: the settings (all optional) plus a ground-truth lookup for `exact`/`noisy` and an NCCL transport. */
export type FakeVllmOptions = z.input<typeof FakeVllmSettingsSchema> & {
  readonly lookup?: BoxLookup;
  /** Carries nccl broadcasts (a fake fabric from createFakeNcclFabric); without it an nccl init fails as on a server without NCCL. */
  readonly nccl?: NcclTransport;
};
