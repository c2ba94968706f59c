import { z } from 'zod';
import { toLabelledVersion } from '../training/staleness.js';

/**
 * One inference server's place in a run's rollout pool, as the step job left
 * it after a weight sync (docs/architecture.md §6.1). `in`: synced to
 * `version` and serving rollouts of that version; `out`: down or failed its
 * sync, serving nothing until a later sync brings it back.
 */
export const FleetMemberSchema = z.strictObject({
  url: z.string().min(1),
  state: z.enum(['in', 'out']),
  /** The weight version it was last synced to; null when unknown (out, or never synced by this run). */
  version: z.number().int().min(0).nullable(),
  /** Why it is out. */
  reason: z.string().optional(),
});
export type FleetMember = z.infer<typeof FleetMemberSchema>;

/** A run's rollout pool after the weight sync at the end of `step`, which pushed `version`. */
export const FleetPoolSchema = z.strictObject({
  step: z.number().int().min(-1),
  version: z.number().int().min(0),
  members: z.array(FleetMemberSchema),
  /**
   * The folder the servers loaded `version` from (the disk sync's export):
   * a member that restarted since is loaded from it again when it comes
   * back. Absent for the nccl backend, which needs the trainer to send.
   */
  weightsPath: z.string().min(1).optional(),
});
export type FleetPool = z.infer<typeof FleetPoolSchema>;

/** A server's `/health` at a step boundary: ok, or why not. */
export type ServerHealth = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** What the sync did to one server: synced, not tried (its health check failed), or failed. */
export type ServerSyncOutcome =
  | { readonly kind: 'synced' }
  | { readonly kind: 'unhealthy'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string };

/** Who gets the sync at a step boundary. */
export interface FleetSyncPlan {
  /** Healthy servers, in config order: each gets the new weights. */
  readonly targets: readonly string[];
  /** Of the targets, those out of the pool now: they rejoin only through this sync (a restarted server holds stale weights). */
  readonly rejoining: readonly string[];
  /** Servers skipped because `/health` failed, with the reason. */
  readonly unhealthy: readonly { readonly url: string; readonly reason: string }[];
}

/** A server taken out of the pool, and why. */
export interface ServerOut {
  readonly url: string;
  readonly reason: string;
}

/** The pool after a sync, and whether the step may go on. */
export interface FleetSyncDecision {
  /** `continue`: enough servers hold the new weights; `fail`: fewer than `minServers` (the step fails, resumably). */
  readonly kind: 'continue' | 'fail';
  readonly pool: FleetPool;
  /** Servers in the pool, config order. */
  readonly active: readonly string[];
  /** Servers out of the pool, config order, with the reason. */
  readonly out: readonly ServerOut[];
  /** Servers that were out (or unknown) before and are in now. */
  readonly rejoined: readonly string[];
  /** Servers that were in before and are out now. */
  readonly left: readonly string[];
  /** One line for the run log: counts of servers (each counted once) and who is out and why. */
  readonly message: string;
}

/** Who is in `pool` (every configured server when there is no pool yet: they all start on the same weights). */
function wasIn(pool: FleetPool | null, url: string): boolean {
  if (pool === null) return true;
  return pool.members.find((m) => m.url === url)?.state === 'in';
}

/** Which servers get a step's sync: every healthy one, pool members and returning servers alike. */
export function planFleetSync(
  servers: readonly string[],
  pool: FleetPool | null,
  health: Readonly<Record<string, ServerHealth>>,
): FleetSyncPlan {
  const targets: string[] = [];
  const unhealthy: { url: string; reason: string }[] = [];
  for (const url of servers) {
    const h = health[url] ?? { ok: false, reason: 'no health check' };
    if (h.ok) targets.push(url);
    else unhealthy.push({ url, reason: h.reason });
  }
  return { targets, rejoining: targets.filter((url) => !wasIn(pool, url)), unhealthy };
}

/** "1 of 2 inference servers": counts servers, once each. */
function ofServers(k: number, n: number): string {
  return `${k} of ${n} inference server${n === 1 ? '' : 's'}`;
}

/**
 * The pool after the sync of `version` at the end of `step`, from each
 * configured server's outcome (a missing outcome counts as failed): synced
 * servers are in at `version`, the others out with their reason. Fewer than
 * `minServers` in: `fail`. Pure, so every worker process decides alike; the
 * caller stores the pool where the rollout workers read it.
 */
export function decideFleetSync(input: {
  readonly servers: readonly string[];
  readonly previous: FleetPool | null;
  readonly outcomes: Readonly<Record<string, ServerSyncOutcome>>;
  readonly step: number;
  readonly version: number;
  readonly minServers: number;
}): FleetSyncDecision {
  const { servers, previous, step, version, minServers } = input;
  const members: FleetMember[] = servers.map((url) => {
    const o = input.outcomes[url] ?? { kind: 'failed', reason: 'no sync outcome' };
    if (o.kind === 'synced') return { url, state: 'in', version };
    return {
      url,
      state: 'out',
      version: null,
      reason: o.kind === 'unhealthy' ? `health check failed: ${o.reason}` : `weight sync failed: ${o.reason}`,
    };
  });
  const active = members.filter((m) => m.state === 'in').map((m) => m.url);
  const out = members.filter((m) => m.state === 'out').map((m) => ({ url: m.url, reason: m.reason ?? '' }));
  const rejoined = active.filter((url) => previous !== null && !wasIn(previous, url));
  const left = out.map((o) => o.url).filter((url) => wasIn(previous, url));
  const kind = active.length >= minServers ? 'continue' : 'fail';
  const outText = out.map((o) => `${o.url} (${o.reason})`).join('; ');
  const message =
    kind === 'fail'
      ? `${ofServers(active.length, servers.length)} hold weight version ${version}, fewer than policy.minServers ${minServers}; out: ${outText}`
      : out.length === 0
        ? `${ofServers(active.length, servers.length)} in the rollout pool at weight version ${version}`
        : `${ofServers(out.length, servers.length)} out of the rollout pool, going on with ${active.length}: ${outText}`;
  return { kind, pool: { step, version, members }, active, out, rejoined, left, message };
}

/** Where a rollout sampled at a weight version may go. */
export interface RolloutTarget {
  readonly servers: string[];
  /**
   * Whether a sync of this run loaded and labelled those servers with the
   * version (the fleet's `syncedWeights`), so a member that restarted since
   * (its starting weights, no label) is refused at its first reply. False
   * for the starting weights and an all-or-nothing sync.
   */
  readonly synced: boolean;
}

/**
 * The servers that may serve rollouts sampled at `version`: pool members in
 * the pool at exactly that version, so a server never serves a step with
 * stale weights. Every configured server when the pool is of another version
 * or there is none: the sync of `version` was then an all-or-nothing one
 * (the starting weights, a checkpoint restored on resume), which fails unless
 * every server took the weights.
 */
export function toRolloutTarget(servers: readonly string[], pool: FleetPool | null, version: number): RolloutTarget {
  if (pool === null || pool.version !== version) return { servers: [...servers], synced: false };
  return {
    servers: servers.filter((url) => pool.members.some((m) => m.url === url && m.state === 'in' && m.version === version)),
    synced: true,
  };
}

/**
 * Whether a server the fleet ejected may take rollouts again once it answers
 * `/health` (the fleet's `readmit` check): null lets it in, else why not. A
 * member of the pool must still hold the weights it was synced to, which its
 * version label (`GET /weight_info`, set by every sync) tells: a server that
 * restarted meanwhile serves its starting weights under vLLM's "default"
 * label, and stays out until the next sync loads and labels it. A label past
 * the pool's version is a sync in progress (newer weights); a server out of
 * the pool, or a run with no pool yet, takes no rollout the pool does not
 * give it, so nothing is checked.
 */
export function toReadmitRefusal(member: FleetMember | undefined, label: string | null): string | null {
  if (member === undefined || member.state !== 'in' || member.version === null) return null;
  const held = toLabelledVersion(label);
  if (held !== null && held >= member.version) return null;
  return `it reports weight version ${label === null ? 'none' : JSON.stringify(label)}, not the pool's ${member.version} (restarted since its last sync?): out until the next sync`;
}

/** What the readmit check does with an ejected member of the pool: let it in, keep it out, or load the pool's weights into it first. */
export type ReadmitPlan =
  | { readonly kind: 'admit' }
  | { readonly kind: 'refuse'; readonly reason: string }
  /** Load `path` (the disk sync's export of `version`) and label it `version`, then let it in; `reason` is the refusal should that fail. */
  | { readonly kind: 'reload'; readonly version: number; readonly path: string; readonly reason: string };

/**
 * {@link toReadmitRefusal}, and what can be done about a refusal: when the
 * pool records the folder its version was loaded from (a disk sync) and the
 * member was synced to that version, the server is loaded from it again and
 * labelled, as the sync did, instead of waiting out of rollouts for the next
 * sync. With nccl (no folder: the trainer must send) it stays out.
 */
export function planReadmit(pool: FleetPool, member: FleetMember | undefined, label: string | null): ReadmitPlan {
  const reason = toReadmitRefusal(member, label);
  if (reason === null) return { kind: 'admit' };
  if (pool.weightsPath === undefined || member?.version !== pool.version) return { kind: 'refuse', reason };
  return { kind: 'reload', version: pool.version, path: pool.weightsPath, reason };
}

/** What a reply says of the weights that answered, and what its request asked of them. */
export interface ReplyWeights {
  /** The version the reply reports (`x-weight-version`), null when none. */
  readonly reported: number | null;
  /** The last version the server reported before, null when it never did. */
  readonly before: number | null;
  /** The request went to servers a sync of the caller loaded and labelled. */
  readonly synced: boolean;
  /** The version those weights are, when an older one must be refused too (on-policy). */
  readonly min?: number | undefined;
}

/**
 * Why a reply came from weights its request must not use (the fleet then
 * ejects the server and asks another), or null. To a request for synced
 * weights, a server that reported a version before and none now restarted
 * since (differad's fake vLLM reports the label of its last sync, none once
 * restarted); with `min`, a reported version older than it is refused too
 * (the CPU policy reports its policy file's version, which a restart takes
 * back to its starting one). A server that never reports a version (vLLM's
 * chat route) is never refused here.
 */
export function toWeightsLost(reply: ReplyWeights): string | null {
  const { reported, before, synced, min } = reply;
  if (synced && reported === null && before !== null) return `it reported weight version ${before} before and none now`;
  if (synced && min !== undefined && reported !== null && reported < min)
    return `it reports weight version ${reported}, older than the ${min} it was synced to`;
  return null;
}
