/** Looks ids up by position: what joining predictions to a manifest needs (a `Map<string, number>` is one). */
export interface IdLookup {
  /** Number of ids held. */
  readonly size: number;
  /** The position of `id`, or undefined when it is not held. */
  get(id: string): number | undefined;
}

/** An IdLookup that ids are added to, each at the next position. */
export interface IdIndex extends IdLookup {
  /** Adds `id` at position `size` and returns −1, or returns the position of the equal id already held (nothing added then). */
  add(id: string): number;
}

const EMPTY = 0;
const MAX_LOAD = 0.5;

/** Grows a typed array to at least `needed` elements (doubling), keeping its contents. */
function grow<T extends Uint8Array | Uint32Array>(array: T, needed: number, make: (n: number) => T): T {
  if (needed <= array.length) return array;
  let n = Math.max(16, array.length);
  while (n < needed) n *= 2;
  const next = make(n);
  next.set(array);
  return next;
}

/** Writes `id`'s UTF-16 code units into `bytes` (room for 3 per unit) with UTF-8's widths, each unit on its own; returns the length. */
function encodeId(id: string, bytes: Uint8Array): number {
  let at = 0;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x80) {
      bytes[at++] = c;
    } else if (c < 0x800) {
      bytes[at++] = 0xc0 | (c >> 6);
      bytes[at++] = 0x80 | (c & 0x3f);
    } else {
      bytes[at++] = 0xe0 | (c >> 12);
      bytes[at++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}

/** FNV-1a over bytes[0 … n), then murmur3's finalizer so that linear probing sees well-spread low bits. */
function hashBytes(bytes: Uint8Array, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 32-bit hash createIdIndex files `id` under (different ids may share one; the index tells them apart). */
export function computeIdHash(id: string): number {
  const bytes = new Uint8Array(id.length * 3);
  return hashBytes(bytes, encodeId(id, bytes));
}

/**
 * An exact id → position index in typed arrays: per id 8 to 16 bytes of
 * table (two slots at most), 4 for where its bytes end, and its bytes; at a
 * million short ids ~30 MB against ~100 MB for a Map of strings (the Map's
 * entries, a string object per id, and the V8 heap's slack around them).
 *
 * Ids are kept, not only hashed: each is written into one byte arena as its
 * UTF-16 code units, one to three bytes each (UTF-8's widths, a surrogate
 * encoded on its own as WTF-8/CESU-8 do), which maps every JS string to one
 * byte sequence, lone surrogates included (TextEncoder would turn both
 * "\uD800" and "\uDFFF" into U+FFFD and merge them). An open-addressing table
 * (linear probing, load ≤ ½) holds each slot's 32-bit hash and position + 1;
 * a slot whose hash matches is compared byte for byte, so two different ids
 * are never merged, whatever their hashes.
 */
export function createIdIndex(expected = 0): IdIndex {
  let arena = new Uint8Array(Math.max(64, expected * 8));
  /** ends[i]: where id i's bytes end in the arena (it starts at ends[i − 1], or 0). */
  let ends = new Uint32Array(Math.max(16, expected));
  let capacity = 16;
  while (capacity * MAX_LOAD < expected) capacity *= 2;
  let slots = new Uint32Array(capacity);
  let hashes = new Uint32Array(capacity);
  let size = 0;
  let used = 0;
  let scratch = new Uint8Array(256);

  /** Encodes `id` into scratch[0 … used) and returns its hash. */
  const encode = (id: string): number => {
    if (scratch.length < id.length * 3) scratch = grow(scratch, id.length * 3, (n) => new Uint8Array(n));
    used = encodeId(id, scratch);
    return hashBytes(scratch, used);
  };

  const sameBytes = (position: number): boolean => {
    const start = position === 0 ? 0 : ends[position - 1]!;
    if (ends[position]! - start !== used) return false;
    for (let i = 0; i < used; i++) if (arena[start + i] !== scratch[i]) return false;
    return true;
  };

  /** The slot holding the encoded id (hash `h`), or the empty slot where it would go. */
  const find = (h: number): number => {
    const mask = capacity - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const held = slots[slot]!;
      if (held === EMPTY || (hashes[slot] === h && sameBytes(held - 1))) return slot;
    }
  };

  const rehash = () => {
    const oldSlots = slots;
    const oldHashes = hashes;
    capacity *= 2;
    slots = new Uint32Array(capacity);
    hashes = new Uint32Array(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < oldSlots.length; i++) {
      if (oldSlots[i] === EMPTY) continue;
      let slot = oldHashes[i]! & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = oldSlots[i]!;
      hashes[slot] = oldHashes[i]!;
    }
  };

  return {
    get size() {
      return size;
    },
    get(id) {
      const held = slots[find(encode(id))]!;
      return held === EMPTY ? undefined : held - 1;
    },
    add(id) {
      const h = encode(id);
      let slot = find(h);
      if (slots[slot] !== EMPTY) return slots[slot]! - 1;
      if (size + 1 > capacity * MAX_LOAD) {
        rehash();
        slot = find(h);
      }
      const start = size === 0 ? 0 : ends[size - 1]!;
      if (start + used > 0xffff_ffff) throw new RangeError('ids hold more than 4 GiB');
      arena = grow(arena, start + used, (n) => new Uint8Array(n));
      arena.set(scratch.subarray(0, used), start);
      ends = grow(ends, size + 1, (n) => new Uint32Array(n));
      ends[size] = start + used;
      slots[slot] = size + 1;
      hashes[slot] = h;
      size++;
      return -1;
    },
  };
}
