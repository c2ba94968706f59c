/**
 * CPU time of the processes a run uses, so the report can say where the
 * machine's cores went per step: this process via `process.cpuUsage()`, the
 * others (fake servers, redis-server, extra workers) from `/proc/<pid>/stat`
 * (Linux; 10 ms ticks). Elsewhere the other processes read as unknown.
 */
import { readFileSync } from 'node:fs';

/** Named processes to watch besides this one. */
export type WatchedPids = Readonly<Record<string, readonly number[]>>;

/** CPU ms per name at one moment (`self` is this process); null when unreadable. */
export type CpuSnapshot = Readonly<Record<string, number | null>>;

const TICK_MS = 10;

function procCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/** Reads the CPU time of this process and of every watched pid (summed per name). */
export function readCpu(watched: WatchedPids): CpuSnapshot {
  const { user, system } = process.cpuUsage();
  const out: Record<string, number | null> = { self: (user + system) / 1000 };
  for (const [name, pids] of Object.entries(watched)) {
    const each = pids.map(procCpuMs);
    out[name] = each.some((v) => v === null) ? null : each.reduce<number>((a, v) => a + (v ?? 0), 0);
  }
  return out;
}

/** CPU ms spent per name between two snapshots. */
export function diffCpu(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, after[k] === null || before[k] === null || before[k] === undefined ? null : after[k]! - before[k]!]),
  );
}
