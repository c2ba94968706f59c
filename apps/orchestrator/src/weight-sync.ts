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

/** The weights an nccl send broadcasts, in order: the trainer's `POST /v1/weights/manifest` reply. */
export interface WeightManifest {
  readonly names: readonly string[];
  readonly dtypes: readonly string[];
  readonly shapes: readonly (readonly number[])[];
}

/** The trainer's side of an nccl sync of one version. */
export interface NcclWeightSyncSource {
  readonly version: number;
  readonly manifest: WeightManifest;
  /** vLLM's `init_info` for a server (master address and port, rank offset, world size). */
  readonly initInfo: (target: WeightSyncTarget, index: number) => Readonly<Record<string, unknown>>;
  /** Extra `update_info` fields (e.g. `packed`), the same for every server. */
  readonly updateInfo?: Readonly<Record<string, unknown>>;
  /** Starts the trainer's broadcast (`sendWeights {backend: 'nccl'}`); resolves once it is done. */
  readonly send: () => Promise<unknown>;
}

/** An nccl group's address: the trainer (rank 0) listens on its own host; vLLM server i joins as rank 1 + i (one worker each). */
export interface NcclGroup {
  readonly master_address: string;
  readonly master_port: number;
  readonly world_size: number;
}

/** The group of a trainer and `servers` single-GPU inference servers (port 29600 unless given). */
export function toNcclGroup(trainerUrl: string, servers: number, port = 29_600): NcclGroup {
  return { master_address: new URL(trainerUrl).hostname.replace(/^\[|\]$/g, ''), master_port: port, world_size: 1 + servers };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The nccl weight sync: every server is paused, then the trainer's broadcast
 * and every server's `init_weight_transfer_engine` (first time only: the
 * trainer joins the group inside its send) → `start_weight_update` →
 * `update_weights {names, dtype_names, shapes}` run together (neither side of
 * a broadcast completes alone); then finish, reset the prefix cache, resume.
 * On any error every server gets finish and resume, all are forgotten as
 * initialized (the group is shared, so the next sync re-creates it), and a
 * retryable SYNC_FAILED is raised. Deadlines are those of the control and
 * trainer clients.
 */
export async function syncWeightsNccl(targets: readonly WeightSyncTarget[], source: NcclWeightSyncSource, initialized: Set<string>): Promise<void> {
  const { names, dtypes, shapes } = source.manifest;
  if (dtypes.length !== names.length || shapes.length !== names.length) {
    throw new DifferadError('SYNC_FAILED', `the weight manifest of version ${source.version} has ${names.length} names, ${dtypes.length} dtypes and ${shapes.length} shapes`, {
      retryable: true,
    });
  }
  const updateInfo = { ...source.updateInfo, names, dtype_names: dtypes, shapes, version: source.version };
  const failures: string[] = [];
  const record = (label: string) => (error: unknown) => {
    failures.push(`${label}: ${messageOf(error)}`);
  };
  await Promise.all(targets.map((t) => t.control.pause({ mode: 'wait' }).catch(record(t.url))));
  if (failures.length === 0) {
    const update = async (t: WeightSyncTarget, index: number): Promise<void> => {
      if (!initialized.has(t.url)) {
        await t.control.initWeightTransferEngine(source.initInfo(t, index));
        initialized.add(t.url);
      }
      await t.control.startWeightUpdate({});
      await t.control.updateWeights(updateInfo);
    };
    await Promise.all([source.send().catch(record('trainer send')), ...targets.map((t, i) => update(t, i).catch(record(t.url)))]);
  }
  if (failures.length === 0) {
    const finish = async (t: WeightSyncTarget): Promise<void> => {
      await t.control.finishWeightUpdate({});
      await t.control.resetPrefixCache();
    };
    await Promise.all(targets.map((t) => finish(t).catch(record(t.url))));
  }
  if (failures.length > 0) {
    for (const t of targets) initialized.delete(t.url);
    await Promise.all(targets.map((t) => t.control.finishWeightUpdate({}).catch(() => undefined)));
  }
  await Promise.all(targets.map((t) => t.control.resume().catch(record(`${t.url} resume`))));
  if (failures.length > 0) {
    throw new DifferadError('SYNC_FAILED', `nccl weight sync of version ${source.version} failed:\n${failures.join('\n')}`, { retryable: true });
  }
}
