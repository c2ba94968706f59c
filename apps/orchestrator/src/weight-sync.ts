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
  /** disk backend: the checkpoint folder (a policy file for the CPU policy) the servers load. */
  readonly path: string;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function syncFailed(what: string, version: number, failures: readonly string[]): DifferadError {
  return new DifferadError('SYNC_FAILED', `${what} of version ${version} failed on ${failures.length} call(s):\n${failures.join('\n')}`, { retryable: true });
}

/**
 * The disk sync (docs/vllm-protocol.md §4.2): vLLM 0.32.0 has no disk
 * weight-transfer engine; a checkpoint folder is loaded in place with
 * `collective_rpc reload_weights {weights_path}`. Per server, in parallel:
 * pause (`wait`: running requests finish on the old weights), reload, reset
 * the prefix cache, and always resume. Any failure raises a retryable
 * SYNC_FAILED, so the step job runs the sync again. The CPU policy answers
 * the same routes.
 */
export async function syncWeights(targets: readonly WeightSyncTarget[], source: WeightSyncSource): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    targets.map(async (t) => {
      try {
        await t.control.pause({ mode: 'wait' });
        await t.control.reloadWeights(source.path);
        await t.control.resetPrefixCache();
      } catch (error) {
        failures.push(`${t.url}: ${messageOf(error)}`);
      } finally {
        await t.control.resume().catch((error: unknown) => failures.push(`${t.url} resume: ${messageOf(error)}`));
      }
    }),
  );
  if (failures.length > 0) throw syncFailed('weight sync', source.version, failures);
}

/** The weights an nccl send broadcasts, in order: the trainer's `POST /v1/weights/manifest` reply. */
export interface WeightManifest {
  readonly names: readonly string[];
  readonly dtypes: readonly string[];
  readonly shapes: readonly (readonly number[])[];
}

/** The rendezvous of the trainer's NCCL endpoint: it is rank 0 on its own host. */
export interface NcclRendezvous {
  readonly master_address: string;
  readonly master_port: number;
}

/** The trainer's rendezvous address (its URL's host) and port (29600 unless given). */
export function toNcclRendezvous(trainerUrl: string, port = 29_600): NcclRendezvous {
  return { master_address: new URL(trainerUrl).hostname.replace(/^\[|\]$/g, ''), master_port: port };
}

/** What the trainer's `weights/send {backend: nccl}` receives as `options`. */
export interface NcclSendOptions extends NcclRendezvous {
  readonly world_size: number;
  readonly packed: boolean;
  /** Drop any group held and open a new rank-0 endpoint first (the servers re-initialize in this sync). */
  readonly init: boolean;
}

/** The trainer's side of an nccl sync of one version. */
export interface NcclWeightSyncSource {
  readonly version: number;
  readonly manifest: WeightManifest;
  readonly rendezvous: NcclRendezvous;
  /** vLLM's `packed` wire parameter, sent to both sides (the server defaults to false, vLLM's trainer engine to true). */
  readonly packed: boolean;
  /** The trainer's broadcast (`sendWeights {backend: 'nccl', options}`); resolves once it is done. */
  readonly send: (options: NcclSendOptions) => Promise<unknown>;
}

/**
 * Which group the servers and the trainer share, as far as this process knows:
 * `null` before its first nccl sync and after any failed one, so the next sync
 * shuts every server's engine down and re-creates the group on both sides.
 */
export interface NcclSyncState {
  group: string | null;
}

/** Rank offsets of servers that occupy `sizes[i]` ranks each after the trainer's rank 0 (nccl_common.worker_init_process_group). */
export function toRankOffsets(sizes: readonly number[]): { offsets: number[]; worldSize: number } {
  const offsets: number[] = [];
  let next = 1;
  for (const size of sizes) {
    offsets.push(next);
    next += size;
  }
  return { offsets, worldSize: next };
}

/**
 * The nccl sync (docs/vllm-protocol.md §4.3, §6). Rank offsets come from each
 * server's `/get_world_size`; every server is paused; when the group is new
 * (`state.group` differs) each server's engine is shut down and then
 * initialized with exactly NCCLWeightTransferInitInfo's fields while the trainer opens a
 * new endpoint (`init: true`); `start_weight_update` runs on every server
 * before the trainer sends, `update_weights {names, dtype_names, shapes}`
 * concurrently with the broadcast, `finish_weight_update {weight_version}`,
 * reset the prefix cache, resume. On any error every server still gets
 * finish (refused when the update already ended it) and resume, the group is
 * forgotten, and a retryable SYNC_FAILED is raised.
 */
export async function syncWeightsNccl(targets: readonly WeightSyncTarget[], source: NcclWeightSyncSource, state: NcclSyncState): Promise<void> {
  const { names, dtypes, shapes } = source.manifest;
  if (dtypes.length !== names.length || shapes.length !== names.length) {
    throw syncFailed('nccl weight sync', source.version, [`the weight manifest has ${names.length} names, ${dtypes.length} dtypes and ${shapes.length} shapes`]);
  }
  const failures: string[] = [];
  const record = (label: string) => (error: unknown) => void failures.push(`${label}: ${messageOf(error)}`);
  const sizes = await Promise.all(targets.map((t) => t.control.getWorldSize().catch((error: unknown) => (record(`${t.url} get_world_size`)(error), 0))));
  if (failures.length > 0) throw syncFailed('nccl weight sync', source.version, failures);
  const { offsets, worldSize } = toRankOffsets(sizes);
  const { master_address, master_port } = source.rendezvous;
  const group = JSON.stringify([master_address, master_port, worldSize, source.packed, targets.map((t) => t.url)]);
  const init = state.group !== group;
  state.group = null;
  const updateInfo = { names, dtype_names: dtypes, shapes };

  await Promise.all(targets.map((t) => t.control.pause({ mode: 'wait' }).catch(record(`${t.url} pause`))));
  if (failures.length === 0 && init) {
    // A server may hold a group against a store that no longer exists: release it before joining anew.
    await Promise.all(targets.map((t) => t.control.shutdownWeightTransferEngine().catch(record(`${t.url} shutdown_weight_transfer_engine`))));
  }
  // Start every update before the trainer broadcasts: a refused start must not leave the trainer waiting in NCCL.
  if (failures.length === 0) await Promise.all(targets.map((t) => t.control.startWeightUpdate().catch(record(`${t.url} start_weight_update`))));
  if (failures.length === 0) {
    const send = source.send({ master_address, master_port, world_size: worldSize, packed: source.packed, init }).catch(record('trainer send'));
    const receive = async (t: WeightSyncTarget, i: number): Promise<void> => {
      if (init) {
        await t.control.initWeightTransferEngine({ master_address, master_port, rank_offset: offsets[i]!, world_size: worldSize, packed: source.packed });
      }
      await t.control.updateWeights(updateInfo);
    };
    await Promise.all([send, ...targets.map((t, i) => receive(t, i).catch(record(t.url)))]);
  }
  if (failures.length === 0) {
    const finish = async (t: WeightSyncTarget): Promise<void> => {
      await t.control.finishWeightUpdate(String(source.version));
      await t.control.resetPrefixCache();
    };
    await Promise.all(targets.map((t) => finish(t).catch(record(t.url))));
  } else {
    await Promise.all(targets.map((t) => t.control.finishWeightUpdate().catch(() => undefined)));
  }
  await Promise.all(targets.map((t) => t.control.resume().catch(record(`${t.url} resume`))));
  if (failures.length > 0) throw syncFailed('nccl weight sync', source.version, failures);
  state.group = group;
}
