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
  /**
   * How `/pause` treats requests in flight: `wait` (default) drains them on
   * the old weights; `keep` (the overlapped mode's in-flight update) freezes
   * them and they go on with the new weights after `/resume`, and the prefix
   * cache is not reset (vLLM refuses while running requests hold blocks).
   */
  readonly pauseMode?: 'wait' | 'keep';
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** How one server's part of a sync ended: `error` null when it holds the new weights, else every call of it that failed. */
export interface ServerSyncResult {
  readonly url: string;
  readonly error: string | null;
}

/** Failures of one sync, kept per server so that a server with several failed calls (a dead one: pause and resume) counts once. */
class SyncFailures {
  private readonly byServer = new Map<string, string[]>();
  readonly trainer: string[] = [];

  add(url: string, call: string, error: unknown): void {
    const list = this.byServer.get(url) ?? [];
    list.push(`${call}: ${messageOf(error)}`);
    this.byServer.set(url, list);
  }

  get any(): boolean {
    return this.byServer.size > 0 || this.trainer.length > 0;
  }

  results(targets: readonly WeightSyncTarget[]): ServerSyncResult[] {
    return targets.map((t) => ({ url: t.url, error: this.byServer.get(t.url)?.join('; ') ?? null }));
  }
}

/** The retryable SYNC_FAILED of a sync that failed anywhere; servers are counted once each, whatever number of calls failed on them. */
function syncFailed(what: string, version: number, servers: readonly ServerSyncResult[], trainer: readonly string[] = []): DifferadError {
  const failed = servers.filter((r) => r.error !== null);
  const lines = [...failed.map((r) => `  ${r.url}: ${r.error}`), ...trainer.map((t) => `  trainer: ${t}`)];
  const where = [failed.length > 0 ? `${failed.length} of ${servers.length} server(s)` : '', trainer.length > 0 ? 'the trainer' : '']
    .filter((w) => w !== '')
    .join(' and ');
  return new DifferadError('SYNC_FAILED', `${what} of version ${version} failed on ${where}:\n${lines.join('\n')}`, {
    retryable: true,
    details: { servers: failed.map((r) => r.url) },
  });
}

/**
 * The disk sync (docs/vllm-protocol.md §4.2), one result per server: vLLM
 * 0.32.0 has no disk weight-transfer engine; a checkpoint folder is loaded in
 * place with `collective_rpc reload_weights {weights_path}`. Per server, in
 * parallel: pause (`wait`: running requests finish on the old weights),
 * reload, label the weights with the trainer's version (`update_weight_version`),
 * reset the prefix cache, and resume; with `pauseMode: keep` (an
 * in-flight update) running requests are frozen instead and finish on the
 * new weights, and the prefix cache is left as it is. A server whose reload failed
 * stays paused: vLLM leaves its layers on the meta device after a failed
 * reload, and the first request would kill its engine; the next sync's good
 * reload resumes it (docs/vllm-protocol.md §4.2). The CPU policy answers the same routes.
 */
export async function syncWeightsEach(targets: readonly WeightSyncTarget[], source: WeightSyncSource): Promise<ServerSyncResult[]> {
  const failures = new SyncFailures();
  await Promise.all(
    targets.map(async (t) => {
      let call = 'pause';
      let reloadFailed = false;
      try {
        const keep = source.pauseMode === 'keep';
        await t.control.pause({ mode: keep ? 'keep' : 'wait' });
        call = 'reload_weights';
        await t.control.reloadWeights(source.path).catch((error: unknown) => {
          reloadFailed = true;
          throw error;
        });
        // Labels the weights with the trainer's version before any request decodes on them, so a
        // server's x-weight-version is the run's (a restarted server's label is "default" until then).
        call = 'update_weight_version';
        await t.control.updateWeightVersion(String(source.version));
        if (!keep) {
          call = 'reset_prefix_cache';
          await t.control.resetPrefixCache();
        }
      } catch (error) {
        failures.add(t.url, call, error);
      } finally {
        if (!reloadFailed) await t.control.resume().catch((error: unknown) => failures.add(t.url, 'resume', error));
      }
    }),
  );
  return failures.results(targets);
}

/** {@link syncWeightsEach} on every target; any failure raises a retryable SYNC_FAILED, so the step job runs the sync again. */
export async function syncWeights(targets: readonly WeightSyncTarget[], source: WeightSyncSource): Promise<void> {
  const results = await syncWeightsEach(targets, source);
  if (results.some((r) => r.error !== null)) throw syncFailed('weight sync', source.version, results);
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
  /** As {@link WeightSyncSource}'s: `keep` for an in-flight update. */
  readonly pauseMode?: 'wait' | 'keep';
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

/** An nccl sync's outcome: one result per server, and the trainer's failures (its send is part of the collective). */
export interface NcclSyncResult {
  readonly servers: readonly ServerSyncResult[];
  readonly trainer: readonly string[];
}

/**
 * The nccl sync (docs/vllm-protocol.md §4.3, §6), one result per server.
 * Rank offsets come from each server's `/get_world_size`; every server is
 * paused; when the group is new (`state.group` differs: first sync of this
 * process, a failure before, or another set of servers) each server's engine
 * is shut down and then initialized with exactly NCCLWeightTransferInitInfo's
 * fields while the trainer opens a new endpoint (`init: true`);
 * `start_weight_update` runs on every server before the trainer sends,
 * `update_weights {names, dtype_names, shapes}` concurrently with the
 * broadcast, `finish_weight_update {weight_version}`, reset the prefix cache,
 * resume. On any error every server still gets finish (refused when the
 * update already ended it) and resume, and the group is forgotten. A bad
 * manifest raises a retryable SYNC_FAILED before any server is touched.
 */
export async function syncWeightsNcclEach(
  targets: readonly WeightSyncTarget[],
  source: NcclWeightSyncSource,
  state: NcclSyncState,
): Promise<NcclSyncResult> {
  const { names, dtypes, shapes } = source.manifest;
  if (dtypes.length !== names.length || shapes.length !== names.length) {
    throw syncFailed(
      'nccl weight sync',
      source.version,
      [],
      [`the weight manifest has ${names.length} names, ${dtypes.length} dtypes and ${shapes.length} shapes`],
    );
  }
  const failures = new SyncFailures();
  const record = (t: WeightSyncTarget, call: string) => (error: unknown) => failures.add(t.url, call, error);
  const sizes = await Promise.all(
    targets.map((t) => t.control.getWorldSize().catch((error: unknown) => (record(t, 'get_world_size')(error), 0))),
  );
  if (failures.any) {
    state.group = null;
    return { servers: failures.results(targets), trainer: failures.trainer };
  }
  const { offsets, worldSize } = toRankOffsets(sizes);
  const { master_address, master_port } = source.rendezvous;
  const group = JSON.stringify([master_address, master_port, worldSize, source.packed, targets.map((t) => t.url)]);
  const init = state.group !== group;
  state.group = null;
  const updateInfo = { names, dtype_names: dtypes, shapes };

  const keep = source.pauseMode === 'keep';
  await Promise.all(targets.map((t) => t.control.pause({ mode: keep ? 'keep' : 'wait' }).catch(record(t, 'pause'))));
  if (!failures.any && init) {
    // A server may hold a group against a store that no longer exists: release it before joining anew.
    await Promise.all(targets.map((t) => t.control.shutdownWeightTransferEngine().catch(record(t, 'shutdown_weight_transfer_engine'))));
  }
  // Start every update before the trainer broadcasts: a refused start must not leave the trainer waiting in NCCL.
  if (!failures.any) await Promise.all(targets.map((t) => t.control.startWeightUpdate().catch(record(t, 'start_weight_update'))));
  if (!failures.any) {
    const send = source
      .send({ master_address, master_port, world_size: worldSize, packed: source.packed, init })
      .catch((error: unknown) => void failures.trainer.push(`send: ${messageOf(error)}`));
    const receive = async (t: WeightSyncTarget, i: number): Promise<void> => {
      let call = 'init_weight_transfer_engine';
      try {
        if (init) {
          await t.control.initWeightTransferEngine({
            master_address,
            master_port,
            rank_offset: offsets[i]!,
            world_size: worldSize,
            packed: source.packed,
          });
        }
        call = 'update_weights';
        await t.control.updateWeights(updateInfo);
      } catch (error) {
        record(t, call)(error);
      }
    };
    await Promise.all([send, ...targets.map((t, i) => receive(t, i))]);
  }
  if (!failures.any) {
    const finish = async (t: WeightSyncTarget): Promise<void> => {
      await t.control.finishWeightUpdate(String(source.version)).catch(record(t, 'finish_weight_update'));
      if (!keep) await t.control.resetPrefixCache().catch(record(t, 'reset_prefix_cache'));
    };
    await Promise.all(targets.map(finish));
  } else {
    await Promise.all(targets.map((t) => t.control.finishWeightUpdate().catch(() => undefined)));
  }
  await Promise.all(targets.map((t) => t.control.resume().catch(record(t, 'resume'))));
  if (!failures.any) state.group = group;
  return { servers: failures.results(targets), trainer: failures.trainer };
}

/** {@link syncWeightsNcclEach} on every target; any failure (a server's or the trainer's) raises a retryable SYNC_FAILED. */
export async function syncWeightsNccl(
  targets: readonly WeightSyncTarget[],
  source: NcclWeightSyncSource,
  state: NcclSyncState,
): Promise<void> {
  const result = await syncWeightsNcclEach(targets, source, state);
  if (result.trainer.length > 0 || result.servers.some((r) => r.error !== null))
    throw syncFailed('nccl weight sync', source.version, result.servers, result.trainer);
}
