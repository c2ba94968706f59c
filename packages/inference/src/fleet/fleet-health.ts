import { isDifferadError } from '@differad/core';
import { readVllmLoad } from '../metrics/prometheus.js';
import type { Clock } from '../time/clock.js';
import type { FleetEvent, FleetSettings } from './fleet-options.js';
import type { FleetServer } from './fleet-server.js';

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Ejection, probing and load scraping for a fleet's servers. */
export interface FleetHealth {
  /** Probes every server's `/health` now; failing ones are ejected. */
  probeAll(): Promise<void>;
  /** Probes ejected servers now (instead of at their scheduled time). */
  probeEjected(): Promise<void>;
  /** Scrapes `/metrics` of every live server once. */
  scrapeAll(): Promise<void>;
  /** Starts the periodic scrape. */
  startScraping(): void;
  /** Called after each retryable failure: ejects the server when its streak is long enough. */
  afterFailure(server: FleetServer): void;
  /** Ejects the server now, whatever its streak (it answers, but with what the caller must not use). */
  ejectNow(server: FleetServer): void;
  stop(): void;
}

/** What the health monitor needs from its fleet. */
export interface FleetHealthDeps {
  readonly servers: readonly FleetServer[];
  readonly settings: FleetSettings;
  readonly clock: Clock;
  readonly emit: (event: FleetEvent) => void;
  /** Capacity changed (a server came back, gauges moved): dispatch queued requests. */
  readonly changed: () => void;
  /** The fleet's `readmit` option: why a healthy ejected server must stay out, or null. */
  readonly readmit?: (server: string) => Promise<string | null>;
}

/**
 * A server is ejected after `ejectAfterFailures` consecutive failures and
 * probed with `GET /health` after `probeBaseMs`, doubling per ejection since
 * its last successful request (up to `probeMaxMs`). A 200 restores it with
 * the limit back at its initial value and in slow start. vLLM's /health can
 * answer 200 while requests hang, so a restored server that fails again is
 * ejected again with a longer wait, until a request succeeds there. With a
 * `readmit` check, a healthy server it refuses stays ejected, probed again
 * with the same growing wait.
 */
export function createFleetHealth(deps: FleetHealthDeps): FleetHealth {
  const { servers, settings, clock, emit, changed, readmit } = deps;
  let stopped = false;
  let cancelScrape: (() => void) | undefined;

  async function isHealthy(server: FleetServer): Promise<boolean> {
    try {
      await server.connection.call({ method: 'GET', path: '/health', timeoutMs: settings.healthTimeoutMs, requestId: 'health' });
      return true;
    } catch (error) {
      server.why = `health check failed: ${messageOf(error)}`;
      return false;
    }
  }

  function eject(server: FleetServer): void {
    if (server.ejected || stopped) return;
    server.ejected = true;
    server.ejections += 1;
    const probeInMs = Math.min(settings.probeMaxMs, settings.probeBaseMs * 2 ** (server.ejections - 1));
    server.cancelProbe = clock.setTimeout(() => void probe(server), probeInMs);
    emit({ type: 'ejected', server: server.url, consecutiveFailures: server.consecutiveFailures, probeInMs });
    changed();
  }

  async function probe(server: FleetServer): Promise<void> {
    server.cancelProbe?.();
    server.cancelProbe = undefined;
    const ok = await isHealthy(server);
    if (stopped || !server.ejected) return;
    const refused = ok && readmit ? await readmit(server.url).catch((error: unknown) => `readmit check failed: ${messageOf(error)}`) : null;
    if (stopped || !server.ejected) return;
    if (!ok || refused !== null) {
      if (refused !== null) {
        server.why = refused;
        emit({ type: 'readmit-refused', server: server.url, reason: refused });
      }
      server.ejected = false;
      eject(server);
      return;
    }
    server.ejected = false;
    server.consecutiveFailures = 0;
    server.limiter.reset();
    emit({ type: 'restored', server: server.url });
    changed();
  }

  async function scrape(server: FleetServer): Promise<void> {
    const oursBefore = server.inFlight;
    try {
      const reply = await server.connection.call({
        method: 'GET',
        path: '/metrics',
        timeoutMs: settings.healthTimeoutMs,
        requestId: 'metrics',
      });
      const load = readVllmLoad(reply.text, settings.model);
      if (load === undefined) server.metricsSupported = false;
      server.recordGauges(load, Math.max(oursBefore, server.inFlight), clock.now());
    } catch (error) {
      if (isDifferadError(error) && error.details.status === 404) server.metricsSupported = false;
      server.recordGauges(undefined, 0, clock.now());
    }
  }

  async function scrapeAll(): Promise<void> {
    await Promise.all(servers.filter((s) => !s.ejected && s.metricsSupported).map(scrape));
    changed();
  }

  function scheduleScrape(): void {
    if (stopped || settings.metricsIntervalMs === 0) return;
    cancelScrape = clock.setTimeout(() => void scrapeAll().finally(scheduleScrape), settings.metricsIntervalMs);
  }

  return {
    async probeAll() {
      const results = await Promise.all(servers.map(isHealthy));
      results.forEach((ok, k) => {
        if (!ok) eject(servers[k]!);
      });
    },
    async probeEjected() {
      await Promise.all(servers.filter((s) => s.ejected).map(probe));
    },
    scrapeAll,
    startScraping: scheduleScrape,
    afterFailure(server) {
      if (server.consecutiveFailures >= settings.ejectAfterFailures) eject(server);
    },
    ejectNow: eject,
    stop() {
      stopped = true;
      cancelScrape?.();
      for (const s of servers) s.cancelProbe?.();
    },
  };
}

/** How old gauges may be before the router ignores them: three scrape intervals (10 s when scrapes are only on demand). */
export function toGaugeMaxAge(settings: FleetSettings): number {
  return settings.metricsIntervalMs === 0 ? 10_000 : 3 * settings.metricsIntervalMs;
}
