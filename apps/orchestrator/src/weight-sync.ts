import { DifferadError } from '@differad/core';
import type { VllmControl } from '@differad/inference';

/** One inference server to update, and how. */
export interface WeightSyncTarget {
  readonly url: string;
  readonly control: VllmControl;
}

/** What the trainer produced for this version. */
export interface WeightSyncSource {
  readonly version: number;
  /** disk backend: the file or folder the servers load. */
  readonly path: string;
}

/**
 * Pushes new weights to every inference server with vLLM's weight-transfer
 * calls: init (once per server), pause, start, update, finish, reset the
 * prefix cache, resume. On any error a server still gets finish (so it does
 * not stay mid-update), is marked for re-initialization, and is resumed; the
 * error is then raised (retryable) so the sync job runs again. The CPU policy
 * answers the same calls, so one module serves both paths.
 */
export async function syncWeights(targets: readonly WeightSyncTarget[], source: WeightSyncSource, initialized: Set<string>): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    targets.map(async (t) => {
      try {
        if (!initialized.has(t.url)) {
          await t.control.initWeightTransferEngine({ backend: 'disk' });
          initialized.add(t.url);
        }
        await t.control.pause({ mode: 'wait' });
        await t.control.startWeightUpdate({});
        await t.control.updateWeights({ path: source.path, version: source.version });
        await t.control.finishWeightUpdate({});
        await t.control.resetPrefixCache();
      } catch (error) {
        failures.push(`${t.url}: ${(error as Error).message}`);
        initialized.delete(t.url);
        await t.control.finishWeightUpdate({}).catch(() => undefined);
      } finally {
        await t.control.resume().catch((error: Error) => failures.push(`${t.url} resume: ${error.message}`));
      }
    }),
  );
  if (failures.length > 0) {
    throw new DifferadError('SYNC_FAILED', `weight sync of version ${source.version} failed on ${failures.length} server(s):\n${failures.join('\n')}`, {
      retryable: true,
    });
  }
}
