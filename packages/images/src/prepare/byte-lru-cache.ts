/** Counters of a cache, for logs and the dashboard. */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
  readonly maxBytes: number;
}

/** A least-recently-used map bounded by the summed size of its values. */
export interface ByteLruCache<V> {
  /** The value, marked most recently used; counts a hit or a miss. */
  get(key: string): V | undefined;
  /** Stores a value of `bytes`, evicting the least recently used until it fits; a value larger than the bound is not kept. */
  set(key: string, value: V, bytes: number): void;
  /** Whether the key is cached; neither counts nor marks it used. */
  has(key: string): boolean;
  /** Counts a hit that was served elsewhere (a joined in-flight computation). */
  recordHit(): void;
  stats(): CacheStats;
  clear(): void;
}

/**
 * Creates a byte-bounded LRU cache. A Map keeps insertion order, so deleting
 * and re-inserting on access makes its first key the least recently used:
 * O(1) get, set and eviction.
 */
export function createByteLruCache<V>(maxBytes: number): ByteLruCache<V> {
  if (!(Number.isFinite(maxBytes) && maxBytes >= 0)) throw new RangeError(`maxBytes must be ≥ 0, got ${maxBytes}`);
  const entries = new Map<string, { value: V; bytes: number }>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let evictions = 0;
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) {
        misses++;
        return undefined;
      }
      hits++;
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, size) {
      const old = entries.get(key);
      if (old !== undefined) {
        entries.delete(key);
        bytes -= old.bytes;
      }
      if (size > maxBytes) return;
      for (const [k, e] of entries) {
        if (bytes + size <= maxBytes) break;
        entries.delete(k);
        bytes -= e.bytes;
        evictions++;
      }
      entries.set(key, { value, bytes: size });
      bytes += size;
    },
    has: (key) => entries.has(key),
    recordHit() {
      hits++;
    },
    stats: () => ({ hits, misses, evictions, entries: entries.size, bytes, maxBytes }),
    clear() {
      entries.clear();
      bytes = 0;
    },
  };
}
