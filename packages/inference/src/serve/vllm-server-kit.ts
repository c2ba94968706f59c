import { toLabelledVersion } from '@differad/core';
import { ALREADY_SENT, readBodyText, toIncoming } from '@differad/http-server';
import { type Context, Hono } from 'hono';
import { type ChatBodyContext, type EngineChoice, toChatCompletionBody } from './chat-completion-body.js';
import { DecodeClock } from './decode-clock.js';
import { createOpenAiErrorHandler, formatLoadMetrics } from './http-io.js';
import { EXPLICIT_SAMPLING_FIELDS, type ServedChatRequest, ServedChatRequestSchema, toChatInputs } from './served-chat-request.js';
import { SlotScheduler, type SlotTicket } from './slot-scheduler.js';
import { toPromptTokenIds } from './tokens.js';
import {
  createVllmDevRoutes,
  type LogprobsMode,
  type NcclTransport,
  type VllmDevRoutes,
  type WeightTransferBackend,
} from './vllm-dev-routes.js';
import { badRequest, type DevRouteReply, modelNotFound, NOT_FOUND, plainValidationError, toValidationReply } from './vllm-errors.js';

/** A valid chat request as an answer engine receives it. */
export interface ChatInput {
  /** The completion's name (the X-Request-Id header, else the kit's id). */
  readonly id: string;
  readonly request: ServedChatRequest;
  /** Inline images in message order (reference, target). */
  readonly images: readonly string[];
  readonly texts: readonly string[];
  readonly promptTokenIds: readonly number[];
  /** Where choices are cut: `max_tokens`, else what the context leaves (vLLM's default). */
  readonly maxTokens: number;
}

/** What became of an admitted request. */
export type ChatOutcome =
  | {
      readonly kind: 'answer';
      readonly choices: readonly EngineChoice[];
      /** The `x-weight-version` of the weights that answered (default: the engine's). */
      readonly weightVersion?: number;
      /** Changes the finished body (a fault that breaks the schema). */
      readonly rewrite?: (body: Record<string, unknown>) => void;
    }
  /** The engine refused the request's content (400) or failed (500). */
  | { readonly kind: 'error'; readonly status: 400 | 500; readonly message: string; readonly param: string | null }
  /** The connection is destroyed with no reply (a lost reply). */
  | { readonly kind: 'lost' };

/** How the engine will treat a request, decided before it queues. */
export type ChatPlan =
  /** A 500 at once. */
  | { readonly kind: 'fail'; readonly message: string }
  /** Never answered: the request ends when its connection does (a stall). */
  | { readonly kind: 'hang' }
  /**
   * Runs once the request holds its `n` slots; `signal` aborts when the
   * client leaves or the server dies. `decode(ms)` spends service time on the
   * server's decode clock, which a `keep` pause stops (an engine that answers
   * at once may ignore it).
   */
  | { readonly kind: 'run'; run(signal: AbortSignal, decode: (ms: number) => Promise<void>): Promise<ChatOutcome> };

/** What a vLLM-compatible server plugs into the kit: how it answers and how it loads weights. */
export interface AnswerEngine {
  /** Refuses a request it cannot answer (vLLM's 400 `BadRequestError`), before it queues; null accepts. */
  check?(input: ChatInput): { readonly message: string; readonly param: string | null } | null;
  plan(input: ChatInput): ChatPlan;
  /** `collective_rpc reload_weights`: loads `weightsPath` (null: the starting weights); throws to fail. */
  reloadWeights(weightsPath: string | null): Promise<void>;
  /**
   * The version `/metrics` and `x-weight-version` report. Default: `/metrics` counts the loads taken
   * and `x-weight-version` is the engine's label when it is a version number (what the run's syncs set).
   */
  weightVersion?(): number;
}

/** Events of a chat request, for counters and tests. */
export interface VllmServerHooks {
  /** `/health` answers 503 while this says false. */
  healthy?(): boolean;
  /** A valid request was accepted (before the engine planned it). */
  onRequest?(event: { readonly id: string; readonly requestId: string | null; readonly body: Readonly<Record<string, unknown>> }): void;
  /** A request ended: answered, failed, lost its connection, or abandoned by the client. */
  onDone?(event: { readonly id: string; readonly outcome: 'ok' | 'error' | 'died' | 'aborted' }): void;
}

/** Settings of {@link createVllmServerKit}. */
export interface VllmServerKitOptions {
  /** Names the server in the message of an unexpected 500. */
  readonly name: string;
  /** `--served-model-name`. */
  readonly model: string;
  readonly maxModelLen: number;
  /** Sequences decoded at once. */
  readonly slots: number;
  readonly maxBodyBytes: number;
  readonly logprobsMode: LogprobsMode;
  readonly engine: AnswerEngine;
  readonly hooks?: VllmServerHooks;
  /** `VLLM_SERVER_DEV_MODE=1` (default true). */
  readonly devMode?: boolean;
  /** `--weight-transfer-config`'s backend; null (default): no engine. */
  readonly weightTransferBackend?: WeightTransferBackend | null;
  readonly tensorParallel?: number;
  readonly dataParallel?: number;
  readonly nccl?: NcclTransport;
  /** Stricter than vLLM: a request leaving a sampling field to the defaults is a 400 (docs/method.md §7). */
  readonly requireExplicitSampling?: boolean;
  /** Names a request without X-Request-Id (default `req-<n>`). */
  readonly nextId?: () => string;
  /** Routes of the server's own, mounted after the body is read and before vLLM's control routes. */
  readonly routes?: (app: Hono<VllmKitEnv>) => void;
}

/** The parsed JSON body of a POST (null when empty), set before its route runs. */
export type VllmKitEnv = { Variables: { json: unknown } };

/** One vLLM-compatible server: its app, scheduler and control routes. */
export interface VllmServerKit {
  readonly app: Hono<VllmKitEnv>;
  readonly scheduler: SlotScheduler;
  readonly control: VllmDevRoutes;
  /** Waits for `work` slots (none are given while paused or asleep); the ticket frees them. */
  admit(work: number): Promise<SlotTicket>;
  /** The weight version served now: the engine's own, or the loads taken (reloads and updates). */
  weightVersion(): number;
  /** Whether vLLM's engine core died (a request ran on a model a failed reload broke). */
  readonly engineDead: boolean;
}

const reply = (c: Context, r: DevRouteReply): Response => c.json(r.body, r.status as 200);

/**
 * vLLM 0.32.0's OpenAI surface and dev-mode control plane, once: `/health`, `/version`, `/metrics`,
 * `/v1/models`, `/v1/chat/completions` (validated as vLLM validates it, answered in its response shape)
 * and the pause, sleep, weight-transfer and reload routes of {@link createVllmDevRoutes}. A server
 * plugs in an {@link AnswerEngine}; the fake vLLM's faults go through its plan (a 500, a stall, a lost
 * reply) and the hooks. Like vLLM (model_loader/reload/layerwise.py, reload/inplace.py, no
 * try/finally), a failed reload leaves the model broken until a good one: a request in between
 * kills the engine core and `/health` answers 503 from then on (docs/vllm-protocol.md §4.2).
 */
export function createVllmServerKit(options: VllmServerKitOptions): VllmServerKit {
  const { engine, hooks = {}, model } = options;
  const scheduler = new SlotScheduler(options.slots);
  let modelBroken = false;
  let engineDead = false;
  let counter = 0;
  const nextId = options.nextId ?? (() => `req-${++counter}`);
  // Requests holding slots, each with the weight versions it decoded with (oldest first).
  const active = new Set<{ readonly versions: (number | null)[] }>();
  const clock = new DecodeClock();
  const drainWaiters = new Set<() => void>();
  const noteVersion = (r: { readonly versions: (number | null)[] }) => {
    const v = servedVersion();
    if (r.versions.at(-1) !== v) r.versions.push(v);
  };
  /**
   * vLLM 0.32.0's pause modes (v1/engine/core.py `pause_scheduler`, v1/core/sched/scheduler.py): every
   * mode holds new requests; `wait` answers once the running ones drained (PAUSED_NEW); `keep` freezes
   * them at once (PAUSED_ALL: no token is scheduled) and they go on after `/resume`, on whatever weights
   * were loaded meanwhile; `abort` here holds new requests and lets running ones finish.
   */
  const pause = async (mode: 'abort' | 'wait' | 'keep'): Promise<void> => {
    scheduler.pause();
    if (mode === 'keep') clock.freeze();
    if (mode === 'wait' && active.size > 0) await new Promise<void>((resolve) => drainWaiters.add(resolve));
  };
  const resume = () => {
    for (const r of active) noteVersion(r);
    clock.thaw();
    scheduler.resume();
  };
  const control = createVllmDevRoutes({
    devMode: options.devMode ?? true,
    weightTransferBackend: options.weightTransferBackend ?? null,
    worldSizePerReplica: options.tensorParallel ?? 1,
    dataParallel: options.dataParallel ?? 1,
    scheduler,
    reloadWeights: async (path) => {
      try {
        await engine.reloadWeights(path);
      } catch (error) {
        modelBroken = true;
        throw error;
      }
      modelBroken = false;
    },
    ...(options.nccl ? { nccl: options.nccl } : {}),
    pause,
    resume,
    model,
    logprobsMode: options.logprobsMode,
  });
  const weightVersion = () => engine.weightVersion?.() ?? control.weightVersion;
  /**
   * The version a request reports: the engine's own, else the engine's label when it is a version
   * number (the run's syncs label every server with the trainer's version), else none: a server
   * restarted since its last labelled sync does not claim the run's weights.
   */
  const servedVersion = (): number | null => engine.weightVersion?.() ?? toLabelledVersion(control.weightVersionLabel);
  const admit = (work: number): Promise<SlotTicket> =>
    new Promise((resolve) => {
      // The scheduler may admit inside enqueue(), before `ticket` is assigned: resolve a microtask later.
      const ticket = scheduler.enqueue(work, () => queueMicrotask(() => resolve(ticket)));
    });

  /** Validation, model check and the engine's own check, in vLLM's order and error shapes; null accepts. */
  const toInput = (c: Context, body: unknown): ChatInput | DevRouteReply => {
    const mediaType = (c.req.header('content-type') ?? '').toLowerCase().split(';')[0]!.trim();
    // serve/utils/api_utils.py validate_json_request, a dependency of the chat route.
    if (mediaType !== 'application/json') return plainValidationError("Unsupported Media Type: Only 'application/json' is allowed");
    const parsed = ServedChatRequestSchema.safeParse(body);
    if (!parsed.success)
      return toValidationReply(
        parsed.error.issues.map((i) => ({ loc: ['body', ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))], msg: i.message })),
      );
    const request = parsed.data;
    if (request.model != null && request.model !== model) return modelNotFound(request.model, model);
    const missing = EXPLICIT_SAMPLING_FIELDS.filter((f) => request[f] == null);
    if (options.requireExplicitSampling && missing.length > 0)
      return badRequest(`sampling parameters left to server defaults: ${missing.join(', ')}`, missing[0]!);
    const { images, texts } = toChatInputs(request);
    const promptTokenIds = toPromptTokenIds(texts, images.length);
    const maxTokens = request.max_tokens ?? request.max_completion_tokens ?? Math.max(1, options.maxModelLen - promptTokenIds.length);
    const id = c.req.header('x-request-id') || '';
    const input: ChatInput = { id, request, images, texts, promptTokenIds, maxTokens };
    const refused = engine.check?.(input);
    return refused ? badRequest(refused.message, refused.param) : input;
  };

  const chat = (c: Context, body: unknown): Response | Promise<Response> => {
    const checked = toInput(c, body);
    if (!('request' in checked)) return reply(c, checked);
    if (modelBroken || engineDead) {
      // What vLLM's CPU worker raises on a model left on the meta device; the engine core then dies.
      engineDead = true;
      return reply(c, {
        status: 500,
        body: {
          error: {
            message: 'EngineCore encountered an issue: Tensor on device cpu is not on the expected device meta!',
            type: 'InternalServerError',
            param: null,
            code: 500,
          },
        },
      });
    }
    const requestId = c.req.header('x-request-id') || null;
    const id = nextId();
    const input: ChatInput = { ...checked, id: requestId ?? id };
    hooks.onRequest?.({ id, requestId, body: body as Record<string, unknown> });
    const plan = engine.plan(input);
    const signal = c.req.raw.signal;
    if (plan.kind === 'fail') {
      hooks.onDone?.({ id, outcome: 'error' });
      return reply(c, { status: 500, body: { error: { message: plan.message, type: 'InternalServerError', param: null, code: 500 } } });
    }
    if (plan.kind === 'hang')
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(ALREADY_SENT), { once: true }));
    return serve(c, id, input, plan.run);
  };

  /** Waits for the request's slots, runs it, answers; a client that leaves frees them, as vLLM aborts it. */
  const serve = (
    c: Context,
    id: string,
    input: ChatInput,
    run: (signal: AbortSignal, decode: (ms: number) => Promise<void>) => Promise<ChatOutcome>,
  ): Promise<Response> =>
    new Promise((resolve) => {
      const signal = c.req.raw.signal;
      if (signal.aborted) {
        hooks.onDone?.({ id, outcome: 'aborted' });
        return resolve(ALREADY_SENT);
      }
      let finished = false;
      const record = { versions: [] as (number | null)[] };
      const finish = (outcome: 'ok' | 'error' | 'died' | 'aborted', response: Response) => {
        if (finished) return;
        finished = true;
        ticket.release();
        active.delete(record);
        if (active.size === 0) {
          const waiters = [...drainWaiters];
          drainWaiters.clear();
          for (const w of waiters) w();
        }
        hooks.onDone?.({ id, outcome });
        resolve(response);
      };
      signal.addEventListener('abort', () => finish('aborted', ALREADY_SENT), { once: true });
      const ticket = scheduler.enqueue(input.request.n ?? 1, () => queueMicrotask(() => void answer()));
      const answer = async () => {
        if (finished) return;
        record.versions.push(servedVersion());
        active.add(record);
        const outcome = await run(signal, (ms) => clock.spend(ms, signal)).catch(
          (error: unknown): ChatOutcome => ({
            kind: 'error',
            status: 500,
            message: `${options.name}: ${error instanceof Error ? error.message : String(error)}`,
            param: null,
          }),
        );
        if (outcome.kind === 'lost') {
          // The fault needs the node socket: the connection is lost with no reply.
          finish('died', ALREADY_SENT);
          toIncoming(c)?.socket.destroy();
        } else if (outcome.kind === 'error') {
          const type = outcome.status === 400 ? 'BadRequestError' : 'InternalServerError';
          finish(
            'error',
            reply(c, {
              status: outcome.status,
              body: { error: { message: outcome.message, type, param: outcome.param, code: outcome.status } },
            }),
          );
        } else {
          const ctx: ChatBodyContext = {
            id: input.id,
            model,
            promptTokenIds: input.promptTokenIds,
            maxTokens: input.maxTokens,
            createdSeconds: Math.floor(Date.now() / 1000),
          };
          const body = toChatCompletionBody(input.request, outcome.choices, ctx);
          outcome.rewrite?.(body);
          noteVersion(record);
          // differad's own headers (vLLM's chat route reports no version): the version the request started on, and every one when an update fell inside it.
          const headers: Record<string, string> = { 'x-request-id': input.id };
          const first = outcome.weightVersion ?? record.versions[0] ?? null;
          if (first !== null) headers['x-weight-version'] = String(first);
          if (record.versions.length > 1 && !record.versions.includes(null)) headers['x-weight-versions'] = record.versions.join(',');
          finish('ok', c.json(body, 200, headers));
        }
      };
    });

  const app = new Hono<VllmKitEnv>();
  app.onError(createOpenAiErrorHandler(options.name));
  // entrypoints/serve/instrumentator/health.py: 503 once the engine is dead.
  app.get('/health', (c) => c.body(null, engineDead || hooks.healthy?.() === false ? 503 : 200));
  app.get('/metrics', (c) => {
    const g = scheduler.gauges();
    return c.text(formatLoadMetrics(model, g.running, g.waiting, weightVersion()), 200, { 'content-type': 'text/plain; version=0.0.4' });
  });
  // entrypoints/serve/engine/protocol.py ModelCard / ModelPermission, as the serving layer fills them.
  app.get('/v1/models', (c) => {
    const created = Math.floor(Date.now() / 1000);
    const permission = {
      id: `modelperm-${model}`,
      object: 'model_permission',
      created,
      allow_create_engine: false,
      allow_sampling: true,
      allow_logprobs: true,
      allow_search_indices: false,
      allow_view: true,
      allow_fine_tuning: false,
      organization: '*',
      group: null,
      is_blocking: false,
    };
    return c.json({
      object: 'list',
      data: [
        {
          id: model,
          object: 'model',
          created,
          owned_by: 'vllm',
          root: model,
          parent: null,
          max_model_len: options.maxModelLen,
          permission: [permission],
        },
      ],
    });
  });
  // Every POST body is read within the limit and parsed as JSON (empty: null) before its route runs.
  app.use('*', async (c, next) => {
    c.set('json', null);
    if (c.req.method === 'POST') {
      const text = await readBodyText(c, { maxBytes: options.maxBodyBytes });
      try {
        c.set('json', text.trim() === '' ? null : JSON.parse(text));
      } catch (error) {
        // FastAPI's json_invalid error (fastapi/routing.py), at the position the parser stopped.
        const at = Number(/position (\d+)/.exec((error as Error).message)?.[1] ?? 0);
        return reply(c, toValidationReply([{ loc: ['body', at], msg: 'JSON decode error' }]));
      }
    }
    await next();
  });
  app.post('/v1/chat/completions', (c) => chat(c, c.get('json')));
  options.routes?.(app);
  app.all('*', async (c) =>
    reply(c, (await control.handle(`${c.req.method} ${c.req.path}`, new URL(c.req.url).searchParams, c.get('json'))) ?? NOT_FOUND),
  );

  return {
    app,
    scheduler,
    control,
    admit,
    weightVersion,
    get engineDead() {
      return engineDead;
    },
  };
}
