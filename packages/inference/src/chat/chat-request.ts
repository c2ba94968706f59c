import { randomUUID } from 'node:crypto';
import { toPairMessages } from '@differad/core';
import { SerializedJson } from '@differad/http-client';

/**
 * Sampling parameters sent with every request (docs/method.md §7). Structurally the
 * same as `SamplingConfig` of @differad/config, so a loaded config can be
 * passed as is.
 */
export interface SamplingParams {
  readonly temperature: number;
  readonly topP: number;
  /** -1 disables top-k, as vLLM expects. */
  readonly topK: number;
  readonly maxTokens: number;
}

/** One paired-image request: `n` completions for a reference/target pair and a prompt. */
export interface CompletionRequest {
  /** Carried into logs and error details; the fleet makes one up when absent. */
  readonly requestId?: string;
  /** The known-good image as a `data:` URL; sent first. */
  readonly referenceImage: string;
  /** The image to inspect as a `data:` URL; sent second. */
  readonly targetImage: string;
  /** The instruction text, after both images. */
  readonly prompt: string;
  /** Optional system message. */
  readonly system?: string;
  /** G: completions in this one request. */
  readonly n: number;
  readonly sampling: SamplingParams;
  readonly seed: number;
  /** Ask for per-token sampling log-probs (default true). */
  readonly logprobs?: boolean;
  /** Ask for completion and prompt token ids (default true). */
  readonly returnTokenIds?: boolean;
  /** Deadline of each attempt in milliseconds (default: the fleet's). */
  readonly timeoutMs?: number;
  /** Cancels the request, queued or in flight; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Only these servers (URLs as given to the fleet) may serve it, retries
   * included: a run's rollout pool, which leaves out servers without the
   * current weights. Default: every server of the fleet.
   */
  readonly servers?: readonly string[];
  /**
   * Order among requests waiting for a server: a lower number is served
   * first, equal numbers in arrival order (default 0). A training run gives
   * each rollout its step, so in the overlapped mode the resamples of the
   * step the trainer waits for go ahead of the rollouts of the steps after it.
   */
  readonly priority?: number;
  /**
   * The servers hold weights a sync of the caller loaded and labelled (a
   * training run's rollout to its pool). differad's fake vLLM reports that
   * label (`x-weight-version`) and none once restarted, so a server that
   * reported one before and answers without one now restarted since, on
   * its starting weights: its reply is refused, it is ejected at once (the
   * fleet's `readmit` check decides when it is back) and the request goes
   * to another server. A server that never reports a version (vLLM's chat
   * route) is not held to it; an older version than expected is the
   * caller's to judge (training's staleness rule).
   */
  readonly syncedWeights?: boolean;
  /**
   * With `syncedWeights`: the version those weights are, when nothing else
   * would catch a server reporting an older one (a training run on-policy,
   * `grpo.maxStaleness` 0; the overlapped mode's staleness rule samples such
   * a group again instead). A reply reporting an older version is refused
   * as above: the CPU policy reports its policy file's version, which a
   * restart takes back to its starting one.
   */
  readonly minWeightVersion?: number;
}

/** The OpenAI-compatible chat request body that vLLM receives. */
export interface ChatRequestBody {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly n: number;
  readonly temperature: number;
  readonly top_p: number;
  readonly top_k: number;
  readonly max_tokens: number;
  readonly seed: number;
  readonly logprobs: boolean;
  readonly return_token_ids: boolean;
  readonly stream: false;
}

/** A chat message: system text, or the user's images and prompt. */
export type ChatMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: readonly ChatContentPart[] };

/** One part of the user message. */
export type ChatContentPart =
  | { readonly type: 'image_url'; readonly image_url: { readonly url: string } }
  | { readonly type: 'text'; readonly text: string };

/**
 * Builds the chat body: optional system text, then one user message with the
 * reference image, the target image and the prompt, in that order (docs/method.md §7),
 * and every sampling parameter explicit — a server fills omitted ones from the
 * model's generation config, which can be greedy.
 */
export function toChatRequestBody(model: string, request: CompletionRequest): ChatRequestBody {
  const images = [request.referenceImage, request.targetImage] as const;
  // The layout is core's, shared with the trainer's copy of the messages (images there by index).
  const messages: ChatMessage[] = toPairMessages(request).map((m) =>
    m.role === 'system'
      ? m
      : {
          role: 'user',
          content: m.content.map((p) => (p.type === 'text' ? p : { type: 'image_url', image_url: { url: images[p.image] } })),
        },
  );
  return {
    model,
    messages,
    n: request.n,
    temperature: request.sampling.temperature,
    top_p: request.sampling.topP,
    top_k: request.sampling.topK,
    max_tokens: request.sampling.maxTokens,
    seed: request.seed,
    logprobs: request.logprobs ?? true,
    return_token_ids: request.returnTokenIds ?? true,
    stream: false,
  };
}

/** Most bytes of serialized images {@link serializeChatBody} keeps (a pair's images come back with every sampling of the pair). */
const IMAGE_CACHE_BYTES = 64 * 1024 * 1024;

// Image URL → its JSON string literal as bytes, oldest first (a Map keeps insertion order).
const imageJson = new Map<string, Buffer>();
let imageJsonBytes = 0;

function toImageJson(url: string): Buffer {
  const known = imageJson.get(url);
  if (known) {
    imageJson.delete(url);
    imageJson.set(url, known);
    return known;
  }
  const made = Buffer.from(JSON.stringify(url));
  imageJson.set(url, made);
  imageJsonBytes += made.length;
  for (const [old, bytes] of imageJson) {
    if (imageJsonBytes <= IMAGE_CACHE_BYTES || old === url) break;
    imageJson.delete(old);
    imageJsonBytes -= bytes.length;
  }
  return made;
}

// Stands in for an image URL while the rest of the body is serialized; no prompt can hold it by chance.
const MARK = `\u0000differad-image-${randomUUID()}`;

/**
 * The body as the bytes the server receives, identical to
 * `JSON.stringify(body)`, with each image's JSON made once and reused while
 * the pair is sampled again (a resample, the next step's draw), instead of
 * serializing and encoding tens of kilobytes of base64 per request.
 */
export function serializeChatBody(body: ChatRequestBody): SerializedJson {
  return new SerializedJson(() => {
    const urls: string[] = [];
    const messages = body.messages.map((m) =>
      m.role === 'system'
        ? m
        : {
            ...m,
            content: m.content.map((p) => {
              if (p.type === 'text') return p;
              urls.push(p.image_url.url);
              return { ...p, image_url: { url: MARK } };
            }),
          },
    );
    const parts = JSON.stringify({ ...body, messages }).split(JSON.stringify(MARK));
    // A text that holds the mark after all: the plain way.
    if (parts.length !== urls.length + 1) return Buffer.from(JSON.stringify(body));
    const chunks: Buffer[] = [Buffer.from(parts[0]!)];
    urls.forEach((url, i) => chunks.push(toImageJson(url), Buffer.from(parts[i + 1]!)));
    return Buffer.concat(chunks);
  });
}
