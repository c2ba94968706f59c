import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, type Rng } from '@differad/core';
import { z } from 'zod';
import { type AnswerPolicy, createAnswerPolicy } from './answer-policy.js';
import { planChatCompletion } from './chat-completion.js';
import { type FakeFaults, FakeFaultsSchema, type FakeVllmOptions, type FakeVllmSettings, FakeVllmSettingsSchema } from './fake-options.js';
import {
  createVllmDevRoutes,
  EXPLICIT_SAMPLING_FIELDS,
  formatLoadMetrics,
  readRequestBody,
  readRequestIdHeader,
  sendJson,
  sendOpenAiError,
  sendOpenAiFailure,
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

  private constructor(
    private readonly server: Server,
    private readonly settings: FakeVllmSettings,
    options: FakeVllmOptions,
    /** The port the server listens on. */
    readonly port: number,
  ) {
    this.url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
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
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => sendOpenAiFailure(res, error, 'fake-vllm'));
    });
  }

  /** Validates the options, binds, and resolves once the server listens. */
  static async start(options: FakeVllmOptions = {}): Promise<FakeVllmServer> {
    const settings = FakeVllmSettingsSchema.parse(Object.fromEntries(Object.entries(options).filter(([key]) => key !== 'lookup' && key !== 'nccl')));
    const server = createServer({ keepAliveTimeout: 60_000 });
    server.listen(settings.port, settings.host);
    await once(server, 'listening');
    return new FakeVllmServer(server, settings, options, (server.address() as AddressInfo).port);
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /health') {
      res.writeHead(this.currentFaults.unhealthy || this.engineDead ? 503 : 200).end();
      return;
    }
    if (route === 'GET /metrics') {
      const g = this.scheduler.gauges();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(formatLoadMetrics(this.settings.model, g.running, g.waiting, this.control.weightVersion));
      return;
    }
    if (route === 'GET /v1/models') {
      const m = this.settings.model;
      sendJson(res, 200, { object: 'list', data: [{ id: m, object: 'model', created: 0, owned_by: 'differad-fake', root: m, parent: null, max_model_len: this.settings.maxModelLen }] });
      return;
    }
    const text = req.method === 'POST' ? await readRequestBody(req, { maxBytes: this.settings.maxBodyBytes }) : '';
    let body: unknown = null;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        sendOpenAiError(res, 400, 'request body is not valid JSON');
        return;
      }
    }
    if (route === 'POST /v1/chat/completions') return this.handleChat(body, res, readRequestIdHeader(req));
    const reply = await this.control.handle(route, url.searchParams, body);
    if (reply) sendJson(res, reply.status, reply.body);
    else sendJson(res, 404, { detail: 'Not Found' });
  }

  /** `requestId` (the X-Request-Id header) names the completion, as vLLM's `chatcmpl-<X-Request-Id>`, and is echoed back. */
  private handleChat(body: unknown, res: ServerResponse, requestId: string | null): void {
    const parsed = ServedChatRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      sendOpenAiError(res, 400, z.prettifyError(parsed.error), issue ? issue.path.join('.') : null);
      return;
    }
    const request = parsed.data;
    if (request.model != null && request.model !== this.settings.model) {
      sendOpenAiError(res, 404, `The model \`${request.model}\` does not exist.`, 'model');
      return;
    }
    const missing = EXPLICIT_SAMPLING_FIELDS.filter((f) => request[f] == null);
    if (this.settings.requireExplicitSampling && missing.length > 0) {
      sendOpenAiError(res, 400, `sampling parameters left to server defaults: ${missing.join(', ')}`, missing[0]);
      return;
    }
    if (this.modelBroken || this.engineDead) {
      // What vLLM's CPU worker raises on a model left on the meta device; the engine core then dies.
      this.engineDead = true;
      sendOpenAiError(res, 500, 'EngineCore encountered an issue: Tensor on device cpu is not on the expected device meta!');
      return;
    }
    const id = `${this.port}-${++this.counter}`;
    this.counts.received += 1;
    this.emit('request', { id, requestId, body: body as Record<string, unknown> });
    const f = this.currentFaults;
    const roll = (p: number) => p > 0 && this.faultRng.next() < p;
    if (roll(f.errorRate)) {
      this.counts.errors += 1;
      sendOpenAiError(res, 500, 'fake-vllm: injected internal server error');
      this.emit('done', { id, outcome: 'error' });
      return;
    }
    if (roll(f.hangRate)) {
      this.counts.hung += 1;
      return;
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
    this.serve(id, requestId ?? id, res, plan.n, serviceMs, roll(f.dieRate), plan.body);
  }

  /** Waits for slots, holds them for the service time, then answers (or loses the socket halfway). */
  private serve(id: string, echoedId: string, res: ServerResponse, work: number, serviceMs: number, die: boolean, body: unknown): void {
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (outcome: FakeVllmEvents['done']['outcome']) => {
      if (finished) return;
      finished = true;
      if (timer) this.clearTimer(timer);
      ticket.release();
      if (outcome === 'ok') this.counts.completed += 1;
      else if (outcome === 'died') this.counts.died += 1;
      else this.counts.aborted += 1;
      this.emit('done', { id, outcome });
    };
    // A client that gives up frees the slots, as vLLM aborts a request whose connection closed.
    res.on('close', () => finish(res.writableFinished ? 'ok' : 'aborted'));
    const ticket = this.scheduler.enqueue(work, () => {
      timer = this.setTimer(die ? serviceMs / 2 : serviceMs, () => {
        if (die) {
          finish('died');
          res.socket?.destroy();
          return;
        }
        sendJson(res, 200, body, { 'x-weight-version': String(this.control.weightVersion), 'x-request-id': echoedId });
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

/** Starts a fake vLLM server (see {@link FakeVllmServer}). */
export function startFakeVllm(options: FakeVllmOptions = {}): Promise<FakeVllmServer> {
  return FakeVllmServer.start(options);
}
