import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { createRng, type Rng } from '@differad/core';
import { type RunningServer, startServer } from '@differad/http-server';
import { type ChatInput, type ChatPlan, createVllmServerKit, type VllmServerKit } from '@differad/inference';
import { type AnswerPolicy, type BoxLookup, createAnswerPolicy } from './answer-policy.js';
import { planChatCompletion } from './chat-completion.js';
import { type FakeFaults, FakeFaultsSchema, type FakeVllmOptions, type FakeVllmSettings, FakeVllmSettingsSchema } from './fake-options.js';

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
 * A fake vLLM OpenAI-compatible server for tests and benchmarks: the answer
 * engine of the vLLM server kit (@differad/inference), which validates and
 * answers like vLLM 0.32.0 and carries its control plane. The engine answers
 * with scripted policies, models capacity (slots, decode rate, prefill per
 * image) with real timers, and injects faults through the kit's plan: a 500,
 * a stall, a lost reply, garbage text, a schema-breaking body, an unhealthy
 * `/health`; `kill()` cuts every connection. Binds 127.0.0.1 on a free port
 * unless told otherwise.
 */
export class FakeVllmServer {
  private readonly faultRng: Rng;
  private readonly policy: AnswerPolicy;
  private readonly listeners: { [K in keyof FakeVllmEvents]: Set<Listener<K>> } = { request: new Set(), done: new Set() };
  private currentFaults: FakeFaults;
  private counts = { received: 0, completed: 0, errors: 0, hung: 0, died: 0, aborted: 0 };
  private closed = false;
  private weightsPath: string | null = null;
  private kit!: VllmServerKit;
  private running!: RunningServer;

  private constructor(private readonly settings: FakeVllmSettings & { readonly lookup: BoxLookup | undefined }) {
    this.faultRng = createRng(`faults:${settings.seed}`);
    this.currentFaults = settings.faults;
    this.policy = createAnswerPolicy({
      policy: settings.policy,
      lookup: settings.lookup,
      constantText: settings.constantText,
      noise: settings.noise,
    });
  }

  /** Validates the options, binds, and resolves once the server listens. */
  static async start(options: FakeVllmOptions = {}): Promise<FakeVllmServer> {
    const { lookup, nccl, ...rest } = options;
    const fake = new FakeVllmServer({ ...FakeVllmSettingsSchema.parse(rest), lookup });
    const s = fake.settings;
    let counter = 0;
    fake.kit = createVllmServerKit({
      name: 'fake-vllm',
      model: s.model,
      maxModelLen: s.maxModelLen,
      slots: s.slots,
      maxBodyBytes: s.maxBodyBytes,
      logprobsMode: s.logprobsMode,
      devMode: s.devMode,
      weightTransferBackend: s.weightTransferBackend,
      tensorParallel: s.tensorParallel,
      dataParallel: s.dataParallel,
      ...(nccl ? { nccl } : {}),
      requireExplicitSampling: s.requireExplicitSampling,
      nextId: () => `${fake.port}-${++counter}`,
      engine: { plan: (input) => fake.plan(input), reloadWeights: (path) => fake.reloadWeights(path) },
      hooks: {
        healthy: () => !fake.currentFaults.unhealthy,
        onRequest: (event) => {
          fake.counts.received += 1;
          fake.emit('request', event);
        },
        onDone: (event) => {
          const key = ({ ok: 'completed', error: 'errors', died: 'died', aborted: 'aborted' } as const)[event.outcome];
          fake.counts[key] += 1;
          fake.emit('done', event);
        },
      },
    });
    fake.running = await startServer(fake.kit.app, { host: s.host, port: s.port });
    return fake;
  }

  /** Base URL (no trailing slash), e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    return this.running.url;
  }

  /** The port the server listens on. */
  get port(): number {
    return this.running.port;
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
    const g = this.kit.scheduler.gauges();
    return {
      ...this.counts,
      running: g.running,
      waiting: g.waiting,
      paused: this.kit.scheduler.isPaused(),
      weightVersion: this.kit.weightVersion(),
      weightsPath: this.weightsPath,
    };
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

  /** Crashes the server: stops listening and destroys every connection, answering nothing (open requests see their abort signal). */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    this.running.server.close();
    this.running.server.closeAllConnections();
  }

  /** Stops the server (open requests are dropped) and resolves once it is closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    const closing = once(this.running.server, 'close');
    this.kill();
    await closing;
  }

  private emit<K extends keyof FakeVllmEvents>(type: K, event: FakeVllmEvents[K]): void {
    for (const listener of [...(this.listeners[type] as Set<Listener<K>>)]) listener(event);
  }

  /** The real loader reads checkpoint files from the folder: a path that is not there fails (the kit then marks the model broken). */
  private async reloadWeights(path: string | null): Promise<void> {
    if (path !== null) await stat(path);
    this.weightsPath = path;
  }

  /** Draws the request's faults (error, stall, schema break, garbage, lost reply) and its answers and service time. */
  private plan(input: ChatInput): ChatPlan {
    const f = this.currentFaults;
    const roll = (p: number) => p > 0 && this.faultRng.next() < p;
    if (roll(f.errorRate)) return { kind: 'fail', message: 'fake-vllm: injected internal server error' };
    if (roll(f.hangRate)) {
      this.counts.hung += 1;
      return { kind: 'hang' };
    }
    const seed = input.request.seed ?? this.faultRng.int(0, 2 ** 31);
    const malformed = roll(f.malformedRate);
    const plan = planChatCompletion(input, {
      seed,
      policy: this.policy,
      garbage: () => roll(f.garbageRate),
      logprobsMode: this.settings.logprobsMode,
    });
    const serviceMs =
      (plan.imageCount * this.settings.prefillMsPerImage + (plan.longestTokens / this.settings.tokensPerSecond) * 1000) * f.slowFactor;
    const die = roll(f.dieRate);
    return {
      kind: 'run',
      run: async (_signal, decode) => {
        // A dying request loses its connection half-way through its service time; a keep pause stops the clock.
        await decode(die ? serviceMs / 2 : serviceMs);
        if (die) return { kind: 'lost' };
        // Break the API schema on purpose: choice 0 without `message`.
        const rewrite = malformed
          ? (body: Record<string, unknown>) => void delete (body.choices as { message?: unknown }[])[0]?.message
          : undefined;
        return { kind: 'answer', choices: plan.choices, ...(rewrite ? { rewrite } : {}) };
      },
    };
  }
}

/** Starts a fake vLLM server (see {@link FakeVllmServer}). */
export function startFakeVllm(options: FakeVllmOptions = {}): Promise<FakeVllmServer> {
  return FakeVllmServer.start(options);
}
