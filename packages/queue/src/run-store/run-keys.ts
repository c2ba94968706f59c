/**
 * The Redis keys of the run store. Ordinary keys, so ':' separates the parts
 * (only BullMQ job ids must avoid it). A run's keys share the `<prefix>:run:<id>:`
 * stem, so `SCAN MATCH <prefix>:run:<id>:*` finds all of them.
 */
export interface RunKeys {
  /** Sorted set of run ids, scored by creation time. */
  readonly runs: string;
  /** JSON string: the run's validated config. */
  config(runId: string): string;
  /** Hash: the fields of a run snapshot (state, last completed step, weight version, times). */
  state(runId: string): string;
  /** Stream: one entry per completed step, entry id `<step>-1`. */
  metrics(runId: string): string;
  /** JSON string with an expiry: the process driving the run, refreshed by its heartbeat; gone once that process stopped beating. */
  owner(runId: string): string;
}

/** The keys under `prefix` (default `differad`). */
export function toRunKeys(prefix = 'differad'): RunKeys {
  return {
    runs: `${prefix}:runs`,
    config: (runId) => `${prefix}:run:${runId}:config`,
    state: (runId) => `${prefix}:run:${runId}:state`,
    metrics: (runId) => `${prefix}:run:${runId}:metrics`,
    owner: (runId) => `${prefix}:run:${runId}:owner`,
  };
}
