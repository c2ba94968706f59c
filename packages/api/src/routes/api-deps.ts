import { randomBytes } from 'node:crypto';
import type { RunStore } from '@differad/queue';
import type { JobStore } from '../jobs/job-store.js';
import type { Launchers } from '../launch/launchers.js';
import type { DataRoots } from '../paths/data-roots.js';

/** How often the metrics stream polls the run store and sends a heartbeat. */
export interface StreamSettings {
  /** Poll interval for new metric rows and the run's state (default 500 ms). */
  readonly pollMs: number;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  readonly heartbeatMs: number;
}

/** Everything the route handlers share; built once by {@link createApiServer}'s caller. */
export interface ApiDeps {
  readonly runStore: RunStore;
  readonly jobStore: JobStore;
  readonly launchers: Launchers;
  /** Paths that jobs read (manifests, images, prompts). */
  readonly dataRoots: DataRoots;
  /** Paths that jobs may write (a run's `runsDir`): the runs root and the data roots. */
  readonly outputRoots: DataRoots;
  /** Default `run.runsDir`; evaluation outputs go to `<runsRoot>/evals/<id>`. */
  readonly runsRoot: string;
  readonly bodyLimitBytes: number;
  readonly stream: StreamSettings;
  readonly now: () => number;
}

/** A fresh id such as `run-20261128-184547-3fa9` (time for sorting by eye, random for uniqueness). */
export function createJobId(kind: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${kind}-${stamp}-${randomBytes(2).toString('hex')}`;
}
