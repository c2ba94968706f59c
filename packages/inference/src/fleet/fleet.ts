import { createRng, DifferadError, isDifferadError, toWeightsLost } from '@differad/core';
import { z } from 'zod';
import { type CompletionRequest, serializeChatBody, toChatRequestBody } from '../chat/chat-request.js';
import { type ParsedChoice, parseChatResponseText } from '../chat/chat-response.js';
import { INFERENCE_ERROR_CODES, toBadResponseError, toUnavailableError } from '../http/http-errors.js';
import { createServerConnection, type HttpReply, normalizeServerUrl } from '../http/server-connection.js';
import { delay, systemClock } from '../time/clock.js';
import { computeBackoffMs } from './backoff.js';
import { createFleetHealth, toGaugeMaxAge } from './fleet-health.js';
import { type FleetEvent, type FleetOptions, FleetSettingsSchema } from './fleet-options.js';
import { FleetServer, nextHoldEnd, pickServer, type ServerStats } from './fleet-server.js';

/** One completion as differad keeps it. */
export interface Completion extends ParsedChoice {
  /** The server that produced it. */
  readonly server: string;
  /** Latency of the request that produced it, ms. */
  readonly latencyMs: number;
}

/** The `n` completions of one request. */
export interface CompletionResult {
  readonly requestId: string;
  readonly server: string;
  readonly latencyMs: number;
  /** Attempts it took, the successful one included. */
  readonly attempts: number;
  /** The prompt as the server tokenized it (null unless token ids were requested). */
  readonly promptTokenIds: readonly number[] | null;
  /** Ordered by choice index. */
  readonly completions: readonly Completion[];
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number } | null;
  /**
   * The server's `x-weight-version` header, when it sends one (differad's
   * servers do; vLLM's chat route does not, docs/vllm-protocol.md §4.1): the
   * version the request started on.
   */
  readonly weightVersion: number | null;
  /**
   * Every version the request was sampled with, oldest first, from
   * `x-weight-versions` (differad's servers, when an in-flight update fell
   * inside the request); null when the server sent none.
   */
  readonly weightVersions: readonly number[] | null;
}

/** Per-server figures and the number of requests waiting for capacity. */
export interface FleetStats {
  readonly servers: readonly ServerStats[];
  readonly queued: number;
}

/** A client for N OpenAI-compatible servers (see {@link createFleet}). */
export interface Fleet {
  /** Probes every server's `/health` (failing ones start ejected), scrapes load once, then keeps scraping. */
  start(): Promise<void>;
  /** Sends one request to the least loaded server, retrying elsewhere on failure. */
  complete(request: CompletionRequest): Promise<CompletionResult>;
  /** Probes ejected servers and scrapes load now, instead of waiting for the timers. */
  refresh(): Promise<void>;
  stats(): FleetStats;
  /** Stops timers, rejects queued requests, destroys connections (in-flight requests fail). */
  close(): Promise<void>;
}

interface Waiter {
  readonly work: number;
  /** The request's `priority`: lower is served first. */
  readonly priority: number;
  /** The servers the request may use (its `servers`, or all). */
  readonly allowed: readonly FleetServer[];
  readonly exclude: ReadonlySet<FleetServer>;
  readonly resolve: (server: FleetServer) => void;
  readonly reject: (error: unknown) => void;
}

/** `x-weight-versions: 3,4` → [3, 4]; null when absent or malformed. */
const versionList = (reply: HttpReply): number[] | null => {
  const raw = reply.headers['x-weight-versions'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined) return null;
  const list = text.split(',').map(Number);
  return list.length > 0 && list.every((v) => Number.isInteger(v) && v >= 0) ? list : null;
};

const header = (reply: HttpReply, name: string): number | null => {
  const raw = reply.headers[name];
  const v = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw === undefined || !Number.isFinite(v) ? null : v;
};

/**
 * Creates a fleet client. Routing: each request (its `n` sequences of work)
 * waits in one FIFO queue until a live server has room under its adaptive
 * concurrency limit, then goes to the one with the least outstanding work
 * relative to that limit. Every attempt has a deadline; a 5xx, 408, 429,
 * timeout or lost connection sends the whole request to another server after
 * an exponential backoff with jitter, up to `maxAttempts`; a 4xx or a bad
 * response is thrown at once, and so is a request this client cannot build
 * (INFERENCE_REQUEST_INVALID), without counting against the server. Options
 * are validated here (INFERENCE_CONFIG_INVALID).
 */
export function createFleet(options: FleetOptions): Fleet {
  const { clock = systemClock, rng, onEvent, readmit, ...rest } = options;
  const parsed = FleetSettingsSchema.safeParse(rest);
  if (!parsed.success) throw new DifferadError('INFERENCE_CONFIG_INVALID', `invalid fleet options:\n${z.prettifyError(parsed.error)}`);
  const settings = parsed.data;
  const random = rng ?? createRng(`fleet:${Date.now()}`);
  const emit = (event: FleetEvent) => onEvent?.(event);
  const servers = settings.servers.map(
    (url, k) =>
      new FleetServer(createServerConnection(url, { clock, connections: settings.connectionsPerServer }), k, settings.concurrency),
  );
  const maxAge = toGaugeMaxAge(settings);
  const queue: Waiter[] = [];
  // Sequences waiting in `queue`: the backlog the drain rule weighs (pickServer).
  let queuedWork = 0;
  let closed = false;
  let started = false;
  let cursor = 0;
  let counter = 0;
  const health = createFleetHealth({
    servers,
    settings,
    clock,
    emit,
    changed: () => pump(),
    ...(readmit ? { readmit } : {}),
  });

  /** Why a request limited to `allowed` cannot be served now, or null when one of them is live. */
  function unservable(allowed: readonly FleetServer[]): string | null {
    if (allowed.length === 0) return 'no server may serve it (its server list is empty)';
    if (!allowed.every((s) => s.ejected)) return null;
    const head =
      allowed.length === servers.length
        ? `no healthy server: all ${servers.length} are ejected`
        : `no healthy server: the ${allowed.length} of ${servers.length} it may use are ejected`;
    const whys = allowed.flatMap((s) => (s.why === null ? [] : [s.why.startsWith(s.url) ? s.why : `${s.url}: ${s.why}`]));
    return whys.length === 0 ? head : `${head} (${whys.join('; ')})`;
  }

  function pump(): void {
    while (queue.length > 0) {
      if (closed) {
        const error = toUnavailableError('the fleet is closed', { requestId: '(queued)' });
        queuedWork = 0;
        for (const w of queue.splice(0)) w.reject(error);
        return;
      }
      const head = queue[0]!;
      const why = unservable(head.allowed);
      if (why !== null) {
        queue.shift();
        queuedWork -= head.work;
        head.reject(toUnavailableError(why, { requestId: '(queued)' }));
        continue;
      }
      const server = pickServer(head.allowed, head.work, head.exclude, clock.now(), maxAge, cursor++, queuedWork);
      if (!server) {
        wakeWhenHoldEnds(head);
        return;
      }
      queue.shift();
      queuedWork -= head.work;
      server.reserve(head.work);
      head.resolve(server);
    }
  }

  // A look at the queue when the drain rule lets go of an idle server: no request may end before then.
  let wake: { readonly at: number; readonly cancel: () => void } | undefined;

  function wakeWhenHoldEnds(head: Waiter): void {
    const at = nextHoldEnd(head.allowed, head.exclude, clock.now());
    if (at === undefined || (wake !== undefined && wake.at <= at)) return;
    wake?.cancel();
    // 1 ms past the end: the rule holds the server up to and including it.
    const cancel = clock.setTimeout(
      () => {
        wake = undefined;
        pump();
      },
      at - clock.now() + 1,
    );
    wake = { at, cancel };
  }

  /** Where a waiter of `priority` joins the queue: after every waiter of the same or a lower number. */
  function placeOf(priority: number): number {
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.priority > priority) at -= 1;
    return at;
  }

  function acquire(
    work: number,
    priority: number,
    allowed: readonly FleetServer[],
    exclude: ReadonlySet<FleetServer>,
    retry: boolean,
    requestId: string,
    signal?: AbortSignal,
  ): Promise<FleetServer> {
    if (closed) return Promise.reject(toUnavailableError('the fleet is closed', { requestId }));
    const why = unservable(allowed);
    if (why !== null) return Promise.reject(toUnavailableError(why, { requestId }));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = queue.indexOf(waiter);
        if (at >= 0) {
          queue.splice(at, 1);
          queuedWork -= work;
        }
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        work,
        priority,
        allowed,
        exclude,
        resolve: (s) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // A retry goes to the front: it has waited once already.
      if (retry) queue.unshift(waiter);
      else queue.splice(placeOf(priority), 0, waiter);
      queuedWork += work;
      pump();
    });
  }

  /**
   * A request's `syncedWeights` and `minWeightVersion` (core's
   * toWeightsLost): a server that lost its weights since is ejected and the
   * reply refused as retryable, so the request goes elsewhere.
   */
  function checkWeights(server: FleetServer, reported: number | null, request: CompletionRequest, requestId: string): void {
    const before = server.weightLabel;
    if (reported !== null) server.weightLabel = reported;
    const reason = toWeightsLost({ reported, before, synced: request.syncedWeights === true, min: request.minWeightVersion });
    if (reason === null) return;
    server.why = `${reason} (restarted since its last sync?)`;
    emit({ type: 'weights-lost', server: server.url, reason });
    health.ejectNow(server);
    throw toUnavailableError(`${server.url}: request ${requestId}: ${reason}: restarted since its last sync? out until the next one`, {
      requestId,
      server: server.url,
    });
  }

  async function attemptOn(
    server: FleetServer,
    request: CompletionRequest,
    requestId: string,
    attempts: number,
  ): Promise<CompletionResult> {
    const body = toChatRequestBody(settings.model, request);
    const outstanding = server.load(clock.now(), maxAge);
    const t0 = clock.now();
    const reply = await server.connection.call({
      method: 'POST',
      path: '/v1/chat/completions',
      body: serializeChatBody(body),
      timeoutMs: request.timeoutMs ?? settings.timeoutMs,
      requestId,
      signal: request.signal,
    });
    const latencyMs = clock.now() - t0;
    const parsed = parseChatResponseText(reply.text, { n: request.n, logprobs: body.logprobs, tokenIds: body.return_token_ids });
    if (parsed === null) throw toBadResponseError('', `not JSON: ${reply.text.slice(0, 200)}`, { server: server.url, requestId });
    if (parsed.kind === 'invalid') throw toBadResponseError(parsed.field, parsed.message, { server: server.url, requestId });
    const tokens = Math.max(
      0,
      ...parsed.choices.map(
        (c) => c.tokenIds?.length ?? c.logprobs?.length ?? Math.ceil((parsed.usage?.completionTokens ?? c.text.length / 4) / request.n),
      ),
    );
    const weightVersion = header(reply, 'x-weight-version');
    checkWeights(server, weightVersion, request, requestId);
    server.recordSuccess({ work: request.n, latencyMs, tokens, outstanding, now: clock.now() });
    return {
      requestId,
      server: server.url,
      latencyMs,
      attempts,
      promptTokenIds: parsed.promptTokenIds,
      completions: parsed.choices.map((c) => ({ ...c, server: server.url, latencyMs })),
      usage: parsed.usage,
      weightVersion,
      weightVersions: versionList(reply),
    };
  }

  /** The fleet's servers among `urls` (all of them without a list); a URL the fleet does not have is the caller's mistake. */
  function toAllowed(urls: readonly string[] | undefined): readonly FleetServer[] {
    if (urls === undefined) return servers;
    const wanted = new Set(urls.map((u) => normalizeServerUrl(u)));
    const unknown = [...wanted].filter((u) => !servers.some((s) => s.url === u));
    if (unknown.length > 0)
      throw new DifferadError('INFERENCE_CONFIG_INVALID', `servers not in this fleet: ${unknown.join(', ')}`, {
        details: { servers: unknown },
      });
    return servers.filter((s) => wanted.has(s.url));
  }

  async function complete(request: CompletionRequest): Promise<CompletionResult> {
    const requestId = request.requestId ?? `req-${++counter}`;
    const allowed = toAllowed(request.servers);
    const tried = new Set<FleetServer>();
    let last: DifferadError | undefined;
    for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
      let server: FleetServer;
      try {
        server = await acquire(request.n, request.priority ?? 0, allowed, tried, attempt > 1, requestId, request.signal);
      } catch (error) {
        throw last && isDifferadError(error)
          ? toUnavailableError(`${error.message}; last failure: ${last.message}`, { requestId }, last)
          : error;
      }
      const sentAt = clock.now();
      try {
        return await attemptOn(server, request, requestId, attempt);
      } catch (error) {
        if (request.signal?.aborted || !isDifferadError(error)) throw error;
        if (!error.retryable) {
          // A request this client could not build says nothing about the server.
          if (error.code !== INFERENCE_ERROR_CODES.REQUEST_INVALID) server.failures += 1;
          throw error;
        }
        last = error;
        // What the ejection this failure may cause is reported with; an ejection made already keeps its own reason.
        if (!server.ejected) server.why = error.message;
        server.recordFailure(sentAt, clock.now());
        health.afterFailure(server);
        tried.add(server);
      } finally {
        server.release(request.n, clock.now());
        pump();
      }
      if (attempt < settings.maxAttempts) {
        const delayMs = computeBackoffMs(attempt, settings, random);
        emit({ type: 'retry', server: server.url, requestId, attempt, error: last, delayMs });
        await delay(clock, delayMs, request.signal);
      }
    }
    throw toUnavailableError(
      `request ${requestId}: all ${settings.maxAttempts} attempts failed; last: ${last?.message}`,
      { requestId, server: last?.details.server as string | undefined },
      last,
    );
  }

  return {
    async start() {
      if (started) return;
      started = true;
      await health.probeAll();
      await health.scrapeAll();
      health.startScraping();
    },
    complete,
    async refresh() {
      await health.probeEjected();
      await health.scrapeAll();
    },
    stats: () => ({ servers: servers.map((s) => s.stats(clock.now(), maxAge)), queued: queue.length }),
    async close() {
      if (closed) return;
      closed = true;
      health.stop();
      wake?.cancel();
      wake = undefined;
      pump();
      await Promise.all(servers.map((s) => s.connection.close()));
    },
  };
}
