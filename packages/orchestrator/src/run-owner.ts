import { hostname } from 'node:os';
import { DifferadError } from '@differad/core';
import type { RunStore } from '@differad/queue';
import { OWNER_TTL_MS } from './run-watch.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Before `--resume`: a run whose owner still beats is being driven by another
 * process, and two coordinators would race on its steps. One on this host
 * whose PID is gone died within the last heartbeat lifetime (a SIGKILL a
 * moment ago): it is taken over at once. Logs how the run was left.
 */
export async function checkRunNotActive(store: RunStore, runId: string, log: (line: string) => void): Promise<void> {
  const run = await store.loadRun(runId);
  if (run?.state === 'interrupted') log(`run ${runId} was interrupted (its process stopped without recording it); taking it over`);
  if (run?.state !== 'running') return;
  const owner = await store.loadOwner(runId);
  if (owner === null) return;
  if (owner.host === hostname() && !isAlive(owner.pid)) {
    log(`run ${runId} was interrupted (process ${owner.pid} is gone); taking it over`);
    return;
  }
  throw new DifferadError(
    'TRAIN_RUN_ACTIVE',
    `run ${runId} is being trained by process ${owner.pid} on ${owner.host}; stop that one first (SIGTERM leaves the run resumable). ` +
      `If it is gone, its heartbeat expires within ${OWNER_TTL_MS / 1000} s and --resume takes the run over.`,
    { details: { runId, pid: owner.pid, host: owner.host } },
  );
}
