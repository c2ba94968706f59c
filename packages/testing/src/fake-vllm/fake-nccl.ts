import type { NcclEndpoint, NcclInitInfo, NcclTransport, NcclUpdateInfo } from '@differad/inference';

/** The trainer's half of an nccl sync, as the trainer's `weights/send {backend: nccl}` performs it. */
export interface FakeNcclSend {
  readonly master_address: string;
  readonly master_port: number;
  readonly world_size: number;
  /** How the trainer encodes the broadcast (vLLM's trainer engine defaults to packed). */
  readonly packed: boolean;
  /** Joins a new group as rank 0 first; without it the trainer reuses the group it holds. */
  readonly init: boolean;
  readonly manifest: {
    readonly names: readonly string[];
    readonly dtypes: readonly string[];
    readonly shapes: readonly (readonly number[])[];
  };
}

/** In-process stand-in for NCCL between a trainer stub and fake vLLM servers. */
export interface FakeNcclFabric {
  /** Passed to fake servers (`nccl` option). */
  readonly transport: NcclTransport;
  /** The trainer's side: (re)joins as rank 0 when `init`, then broadcasts the manifest's tensors. */
  trainerSend(send: FakeNcclSend): Promise<void>;
  /** Rendezvous still waiting for ranks (what would hang on real NCCL). */
  waiting(): { key: string; worldSize: number; ranks: number[] }[];
  /** Completed broadcasts. */
  readonly broadcasts: number;
}

interface Receiver {
  readonly ranks: readonly number[];
  readonly update: NcclUpdateInfo;
  readonly packed: boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Group {
  readonly key: string;
  readonly worldSize: number;
  readonly ranks: Set<number>;
  readonly joined: Array<{ resolve: () => void; reject: (error: Error) => void }>;
  receivers: Receiver[];
  sender: { readonly send: FakeNcclSend; readonly resolve: () => void; readonly reject: (error: Error) => void } | null;
  closed: boolean;
}

const sameList = (a: readonly unknown[], b: readonly unknown[]) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A fake NCCL: a rendezvous completes once ranks 0..world_size-1 have each
 * joined once (a duplicate or out-of-range rank fails, as the TCPStore
 * rendezvous would not complete); a broadcast completes once the trainer sent
 * and every other rank is receiving, and fails on both sides when a receiver
 * expects other tensors or another packing (on real NCCL: a hang or corrupt
 * weights). Waits longer than `timeoutMs` fail with "(real NCCL: hangs)".
 */
export function createFakeNcclFabric(options: { readonly timeoutMs?: number } = {}): FakeNcclFabric {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pending = new Map<string, Group>();
  const trainerGroups = new Map<string, Group>();
  let broadcasts = 0;

  const withDeadline = <T>(what: string, run: (resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake NCCL: ${what} timed out after ${timeoutMs} ms (real NCCL: hangs)`)), timeoutMs);
      timer.unref();
      run(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });

  const join = (key: string, worldSize: number, ranks: readonly number[]): Promise<Group> => {
    let group = pending.get(key);
    if (!group) {
      group = { key, worldSize, ranks: new Set(), joined: [], receivers: [], sender: null, closed: false };
      pending.set(key, group);
    }
    const g = group;
    if (g.worldSize !== worldSize)
      return Promise.reject(new Error(`fake NCCL: world_size ${worldSize} at ${key}, but the rendezvous in progress has ${g.worldSize}`));
    const bad = ranks.find((r) => r < 0 || r >= worldSize || g.ranks.has(r));
    if (bad !== undefined)
      return Promise.reject(
        new Error(
          `fake NCCL: rank ${bad} cannot join the group at ${key} (world_size ${worldSize}, joined ${[...g.ranks].join(', ') || 'none'})`,
        ),
      );
    return withDeadline(`rendezvous at ${key}`, (resolve, reject) => {
      for (const r of ranks) g.ranks.add(r);
      g.joined.push({ resolve: () => resolve(g), reject });
      if (g.ranks.size === g.worldSize) {
        pending.delete(key);
        for (const j of g.joined) j.resolve();
      }
    });
  };

  /** Settles a broadcast once the sender and every receiving rank are there. */
  const settle = (g: Group) => {
    const receiving = g.receivers.reduce((n, r) => n + r.ranks.length, 0);
    if (!g.sender || receiving < g.worldSize - 1) return;
    const { send, resolve, reject } = g.sender;
    const problems: string[] = [];
    for (const r of g.receivers) {
      const u = r.update;
      let problem: string | null = null;
      if (r.packed !== send.packed)
        problem = `ranks ${r.ranks.join(',')} decode ${r.packed ? 'packed' : 'unpacked'} but the trainer sent ${send.packed ? 'packed' : 'unpacked'}`;
      else if (
        !sameList(u.names, send.manifest.names) ||
        !sameList(u.dtype_names, send.manifest.dtypes) ||
        !sameList(u.shapes, send.manifest.shapes)
      ) {
        problem = `ranks ${r.ranks.join(',')} expect other tensors than the trainer sent`;
      }
      if (problem) {
        problems.push(problem);
        r.reject(new Error(`fake NCCL: ${problem} (real NCCL: a hang or corrupt weights)`));
      } else r.resolve();
    }
    g.receivers = [];
    g.sender = null;
    if (problems.length > 0) reject(new Error(`fake NCCL: broadcast at ${g.key} failed: ${problems.join('; ')}`));
    else {
      broadcasts += 1;
      resolve();
    }
  };

  const transport: NcclTransport = {
    async join(info: NcclInitInfo, ranks: readonly number[]): Promise<NcclEndpoint> {
      const key = `${info.master_address}:${info.master_port}`;
      const g = await join(key, info.world_size, ranks);
      return {
        receive: (update, packed) =>
          withDeadline<void>(`receive at ${key}`, (resolve, reject) => {
            if (g.closed) return reject(new Error('fake NCCL: the group was shut down'));
            g.receivers.push({ ranks, update, packed, resolve, reject });
            settle(g);
          }),
        close: () => {
          g.closed = true;
        },
      };
    },
  };

  return {
    transport,
    async trainerSend(send) {
      const key = `${send.master_address}:${send.master_port}`;
      if (send.init) trainerGroups.set(key, await join(key, send.world_size, [0]));
      const g = trainerGroups.get(key);
      if (!g) throw new Error(`fake trainer: no NCCL group at ${key} (send with init: true first)`);
      await withDeadline<void>(`broadcast at ${key}`, (resolve, reject) => {
        g.sender = { send, resolve, reject };
        settle(g);
      });
    },
    waiting: () => [...pending.values()].map((g) => ({ key: g.key, worldSize: g.worldSize, ranks: [...g.ranks].sort((a, b) => a - b) })),
    get broadcasts() {
      return broadcasts;
    },
  };
}
