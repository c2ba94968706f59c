import type { Gauge } from 'prom-client';

/** One server as the fleet client reports it (`ServerStats` of @differad/inference fits). */
export interface FleetServerStatsLike {
  readonly url: string;
  readonly inFlight: number;
  readonly concurrencyLimit: number;
  readonly ejected: boolean;
  /** Null before the first successful request. */
  readonly latencyEwmaMs: number | null;
}

/** What `collectFleet` needs of a fleet client: `Fleet` of @differad/inference fits as it is. */
export interface FleetStatsSource {
  stats(): { readonly servers: readonly FleetServerStatsLike[]; readonly queued: number };
}

/** The fleet gauges, read from every registered fleet at scrape time. */
export interface FleetGauges {
  readonly inFlight: Gauge;
  readonly concurrencyLimit: Gauge;
  readonly ejected: Gauge;
  readonly latency: Gauge;
  readonly queued: Gauge;
}

/**
 * The fleets each scrape reads. A process may hold several fleet clients (one
 * per run) on the same servers: per server, in-flight sequences, limits and
 * queued requests add up; a server is ejected if any client ejected it, and its
 * latency is the highest any client measured (the one that routes away first).
 */
export function createFleetCollector(gaugesOf: () => FleetGauges) {
  const sources = new Set<FleetStatsSource>();
  const snapshot = () => [...sources].map((s) => s.stats());
  const servers = () => snapshot().flatMap((f) => f.servers);
  return {
    /** Adds `fleet` to every later scrape; the returned function takes it out again (call it before closing the fleet). */
    add(fleet: FleetStatsSource): () => void {
      sources.add(fleet);
      return () => void sources.delete(fleet);
    },
    /** Scrape hooks, one per gauge (prom-client calls each gauge's own). */
    collectors: {
      fleetInFlight() {
        const gauges = gaugesOf();
        gauges.inFlight.reset();
        for (const s of servers()) gauges.inFlight.inc({ server: s.url }, s.inFlight);
      },
      fleetConcurrencyLimit() {
        const gauges = gaugesOf();
        gauges.concurrencyLimit.reset();
        for (const s of servers()) gauges.concurrencyLimit.inc({ server: s.url }, s.concurrencyLimit);
      },
      fleetServerEjected() {
        const gauges = gaugesOf();
        const ejected = new Map<string, number>();
        for (const s of servers()) ejected.set(s.url, Math.max(ejected.get(s.url) ?? 0, s.ejected ? 1 : 0));
        gauges.ejected.reset();
        for (const [server, value] of ejected) gauges.ejected.set({ server }, value);
      },
      fleetLatency() {
        const gauges = gaugesOf();
        const latency = new Map<string, number>();
        for (const s of servers()) {
          if (s.latencyEwmaMs !== null) latency.set(s.url, Math.max(latency.get(s.url) ?? 0, s.latencyEwmaMs / 1000));
        }
        gauges.latency.reset();
        for (const [server, value] of latency) gauges.latency.set({ server }, value);
      },
      fleetQueued() {
        const gauges = gaugesOf();
        gauges.queued.set(snapshot().reduce((sum, f) => sum + f.queued, 0));
      },
    },
  };
}
