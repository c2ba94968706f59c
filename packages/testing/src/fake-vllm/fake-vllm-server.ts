import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createRng, type Rng } from '@differad/core';
import { ALREADY_SENT, readBodyText, type RunningServer, startServer, toIncoming } from '@differad/http-server';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { type AnswerPolicy, createAnswerPolicy } from './answer-policy.js';
import { planChatCompletion } from './chat-completion.js';
import { type FakeFaults, FakeFaultsSchema, type FakeVllmOptions, type FakeVllmSettings, FakeVllmSettingsSchema } from './fake-options.js';
import {
  createVllmDevRoutes,
  EXPLICIT_SAMPLING_FIELDS,
  createOpenAiErrorHandler,
  formatLoadMetrics,
  openAiError,
  ServedChatRequestSchema,
  SlotScheduler,
  type VllmDevRoutes,
} from '@differad/inference';

/** Events a test can wait on instead of sleeping. */
export interface FakeVllmEvents {
  /** A valid chat request arrived (before any fault is applied). */
  request: {
    readonly id: string;
    /** The request's X-Request-Id header as received (null without one). */
    readonly requestId: string | null;
    readonly body: Readonly<Record<string, unknown>>;
  };
  /** A chat request ended: answered, failed on purpose, lost its socket, or abandoned by the client. */
  done: { readonly id: string; readonly outcome: 'ok' | 'error' | 'died' | 'aborted' };
}

/** Counters of a fake server. */
export interface FakeVllmStats {
  readonly received: number;
  readonly completed: number;
  readonly errors: number;
  readonly hung: number;
  readonly died: number;
  readonly aborted: number;
  readonly running: number;
  readonly waiting: number;
  readonly paused: boolean;
  readonly weightVersion: number;
  /** The `weights_path` of the last `reload_weights` since the server started (null before one). */
  readonly weightsPath: string | null;
}

type Listener<K extends keyof FakeVllmEvents> = (event: FakeVllmEvents[K]) => void;

/** The parsed JSON body of a POST (null when empty), set before its route runs. */
type FakeEnv = { Variables: { json: unknown } };

/**
 * A fake vLLM OpenAI-compatible server for tests and benchmarks: validates chat
 * requests like vLLM, answers with scripted policies, models capacity (slots,
 * decode rate, prefill per image) with real timers, publishes vLLM's load
 * gauges, implements the pause/resume and weight-transfer endpoints, and
 * injects faults. Binds 127.0.0.1 on a free port unless told otherwise.
 */
export class FakeVllmServer {
  private readonly scheduler: SlotScheduler;
  private readonly control: VllmDevRoutes;
  private readonly faultRng: Rng;
  private readonly policy: AnswerPolicy;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners: { [K in keyof FakeVllmEvents]: Set<Listener<K>> } = { request: new Set(), done: new Set() };
  private currentFaults: FakeFaults;
  private counter = 0;
  private counts = { received: 0, completed: 0, errors: 0, hung: 0, died: 0, aborted: 0 };
  private closed = false;
  /** A reload failed: the model's layers are on the meta device until a reload succeeds. */
  private modelBroken = false;
  /** A request ran on a broken model: vLLM's engine core died, /health answers 503 for good. */
  private engineDead = false;
  private weightsPath: string | null = null;
  /** Base URL (no trailing slash), e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;
  /** The node server: faults (kill, a socket lost halfway) work on its sockets. */
  private readonly server: RunningServer['server'];

  private constructor(
    running: RunningServer,
    private readonly settings: FakeVllmSettings,
    options: FakeVllmOptions,
  ) {
    this.url = running.url;
    this.port = running.port;
    this.server = running.server;
    this.scheduler = new SlotScheduler(settings.slots);
    this.control = createVllmDevRoutes({
      devMode: settings.devMode,
      weightTransferBackend: settings.weightTransferBackend,
      worldSizePerReplica: settings.tensorParallel,
      dataParallel: settings.dataParallel,
      scheduler: this.scheduler,
      // The real loader reads checkpoint files from the folder: a path that is not there fails. vLLM
      // 0.32.0 moves every layer to the meta device before loading (model_loader/reload/layerwise.py) with
      // no try/finally (reload/inplace.py), so a failed reload leaves the model unusable until a good one.
      reloadWeights: async (path) => {
        try {
          if (path !== null) await stat(path);
        } catch (error) {
          this.modelBroken = true;
          throw error;
        }
        this.modelBroken = false;
        this.weightsPath = path;
      },
      ...(options.nccl ? { nccl: options.nccl } : {}),
      model: settings.model,
      logprobsMode: settings.logprobsMode,
    });
    this.faultRng = createRng(`faults:${settings.seed}`);
    this.currentFaults = settings.faults;
    this.policy = createAnswerPolicy({ policy: settings.policy, lookup: options.lookup, constantText: settings.constantText, noise: settings.noise });
  }

  /** Validates the options, binds, and resolves once the server listens. */
  static async start(options: FakeVllmOptions = {}): Promise<FakeVllmServer> {
    const settings = FakeVllmSettingsSchema.parse(Object.fromEntries(Object.entries(options).filter(([key]) => key !== 'lookup' && key !== 'nccl')));
    // The app reaches the instance once it exists: no request is served before listen() resolves and the constructor runs.
    let fake: FakeVllmServer | null = null;
    const app = createFakeApp(() => fake!, settings.maxBodyBytes);
    const running = await startServer(app, { host: settings.host, port: settings.port });
    fake = new FakeVllmServer(running, settings, options);
    return fake;
  }

  /** The served model name. */
  get model(): string {
    return this.settings.model;
  }

  /** The faults in force. */
  get faults(): FakeFaults {
    return this.currentFaults;
  }

  /** Changes some faults at runtime; the rest stay as they are. */
  setFaults(patch: Partial<FakeFaults>): void {
    this.currentFaults = FakeFaultsSchema.parse({ ...this.currentFaults, ...patch });
  }

  /** Counters and gauges. */
  stats(): FakeVllmStats {
    const g = this.scheduler.gauges();
    return { ...this.counts, running: g.running, waiting: g.waiting, paused: this.scheduler.isPaused(), weightVersion: this.control.weightVersion, weightsPath: this.weightsPath };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof FakeVllmEvents>(type: K, listener: Listener<K>): () => void {
    const set = this.listeners[type] as Set<Listener<K>>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Resolves with the next event of `type` that satisfies `predicate`. */
  next<K extends keyof FakeVllmEvents>(type: K, predicate: (event: FakeVllmEvents[K]) => boolean = () => true): Promise<FakeVllmEvents[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (event) => {
        if (!predicate(event)) return;
        off();
        resolve(event);
      });
    });
  }

  /** Crashes the server: stops listening and destroys every connection, answering nothing. */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server.close();
    this.server.closeAllConnections();
  }

  /** Stops the server (open requests are dropped) and resolves once it is closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    const closing = once(this.server, 'close');
    this.kill();
    await closing;
  }

  private emit<K extends keyof FakeVllmEvents>(type: K, event: FakeVllmEvents[K]): void {
    for (const listener of [...(this.listeners[type] as Set<Listener<K>>)]) listener(event);
  }

  /** GET /health: 503 once unhealthy (a fault) or after the engine core died. */
  health(c: Context): Response {
    return c.body(null, this.currentFaults.unhealthy || this.engineDead ? 503 : 200);
  }

  /** GET /metrics: vLLM's load gauges and the weight version. */
  metrics(c: Context): Response {
    const g = this.scheduler.gauges();
    return c.text(formatLoadMetrics(this.settings.model, g.running, g.waiting, this.control.weightVersion), 200, { 'content-type': 'text/plain; version=0.0.4' });
  }

  /** GET /v1/models. */
  models(c: Context): Response {
    const m = this.settings.model;
    return c.json({ object: 'list', data: [{ id: m, object: 'model', created: 0, owned_by: 'differad-fake', root: m, parent: null, max_model_len: this.settings.maxModelLen }] });
  }

  /** vLLM's dev-mode control routes; 404 `{detail}` for anything else, as FastAPI answers. */
  async controlRoute(c: Context, body: unknown): Promise<Response> {
    const reply = await this.control.handle(`${c.req.method} ${c.req.path}`, new URL(c.req.url).searchParams, body);
    return c.json(reply?.body ?? { detail: 'Not Found' }, (reply?.status ?? 404) as 200);
  }

  /** `requestId` (the X-Request-Id header) names the completion, as vLLM's `chatcmpl-<X-Request-Id>`, and is echoed back. */
  chat(c: Context, body: unknown, requestId: string | null): Response | Promise<Response> {
    const parsed = ServedChatRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return openAiError(c, 400, z.prettifyError(parsed.error), issue ? issue.path.join('.') : null);
    }
    const request = parsed.data;
    if (request.model != null && request.model !== this.settings.model) return openAiError(c, 404, `The model \`${request.model}\` does not exist.`, 'model');
    const missing = EXPLICIT_SAMPLING_FIELDS.filter((f) => request[f] == null);
    if (this.settings.requireExplicitSampling && missing.length > 0) {
      return openAiError(c, 400, `sampling parameters left to server defaults: ${missing.join(', ')}`, missing[0]);
    }
    if (this.modelBroken || this.engineDead) {
      // What vLLM's CPU worker raises on a model left on the meta device; the engine core then dies.
      this.engineDead = true;
      return openAiError(c, 500, 'EngineCore encountered an issue: Tensor on device cpu is not on the expected device meta!');
    }
    const id = `${this.port}-${++this.counter}`;
    this.counts.received += 1;
    this.emit('request', { id, requestId, body: body as Record<string, unknown> });
    const f = this.currentFaults;
    const roll = (p: number) => p > 0 && this.faultRng.next() < p;
    if (roll(f.errorRate)) {
      this.counts.errors += 1;
      this.emit('done', { id, outcome: 'error' });
      return openAiError(c, 500, 'fake-vllm: injected internal server error');
    }
    if (roll(f.hangRate)) {
      this.counts.hung += 1;
      // Never answered: the request ends only when the client or a kill() closes its connection.
      return new Promise((resolve) => c.req.raw.signal.addEventListener('abort', () => resolve(ALREADY_SENT), { once: true }));
    }
    const plan = planChatCompletion(request, {
      model: this.settings.model,
      requestId: requestId ?? id,
      seed: request.seed ?? this.faultRng.int(0, 2 ** 31),
      policy: this.policy,
      maxModelLen: this.settings.maxModelLen,
      garbage: () => roll(f.garbageRate),
      malformed: roll(f.malformedRate),
      createdSeconds: Math.floor(Date.now() / 1000),
      logprobsMode: this.settings.logprobsMode,
    });
    const serviceMs = (plan.imageCount * this.settings.prefillMsPerImage + (plan.longestTokens / this.settings.tokensPerSecond) * 1000) * f.slowFactor;
    return this.serve(c, id, requestId ?? id, plan.n, serviceMs, roll(f.dieRate), plan.body);
  }

  /** Waits for slots, holds them for the service time, then answers (or loses the socket halfway). */
  private serve(c: Context, id: string, echoedId: string, work: number, serviceMs: number, die: boolean, body: unknown): Promise<Response> {
    return new Promise((resolve) => {
      const signal = c.req.raw.signal;
      if (signal.aborted) {
        this.counts.aborted += 1;
        this.emit('done', { id, outcome: 'aborted' });
        return resolve(ALREADY_SENT);
      }
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (outcome: FakeVllmEvents['done']['outcome'], reply: Response) => {
        if (finished) return;
        finished = true;
        if (timer) this.clearTimer(timer);
        ticket.release();
        if (outcome === 'ok') this.counts.completed += 1;
        else if (outcome === 'died') this.counts.died += 1;
        else this.counts.aborted += 1;
        this.emit('done', { id, outcome });
        resolve(reply);
      };
      // A client that gives up frees the slots, as vLLM aborts a request whose connection closed.
      signal.addEventListener('abort', () => finish('aborted', ALREADY_SENT), { once: true });
      const ticket = this.scheduler.enqueue(work, () => {
        timer = this.setTimer(die ? serviceMs / 2 : serviceMs, () => {
          if (die) {
            // The fault needs the node socket: the connection is lost with the reply half-way.
            finish('died', ALREADY_SENT);
            toIncoming(c)?.socket.destroy();
            return;
          }
          finish('ok', c.json(body, 200, { 'x-weight-version': String(this.control.weightVersion), 'x-request-id': echoedId }));
        });
      });
    });
  }

  private setTimer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }
}

/**
 * The fake's Hono app: the fixed routes, every POST body read within the
 * limit and parsed as JSON (vLLM's 400 when it is not), the chat route and
 * the control routes; failures in vLLM's error shape (413 past the limit).
 */
function createFakeApp(fake: () => FakeVllmServer, maxBodyBytes: number): Hono<FakeEnv> {
  const app = new Hono<FakeEnv>();
  app.onError(createOpenAiErrorHandler('fake-vllm'));
  app.get('/health', (c) => fake().health(c));
  app.get('/metrics', (c) => fake().metrics(c));
  app.get('/v1/models', (c) => fake().models(c));
  app.use('*', async (c, next) => {
    const text = c.req.method === 'POST' ? await readBodyText(c, { maxBytes: maxBodyBytes }) : '';
    let json: unknown = null;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        return openAiError(c, 400, 'request body is not valid JSON');
      }
    }
    c.set('json', json);
    await next();
  });
  app.post('/v1/chat/completions', (c) => fake().chat(c, c.get('json'), c.req.header('x-request-id') || null));
  app.all('*', (c) => fake().controlRoute(c, c.get('json')));
  return app;
}

/** Starts a fake vLLM server (see {@link FakeVllmServer}). */
export function startFakeVllm(options: FakeVllmOptions = {}): Promise<FakeVllmServer> {
  return FakeVllmServer.start(options);
}
