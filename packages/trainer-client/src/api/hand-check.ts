/*
 * Building blocks of the hand-written checks that mirror the hot schemas
 * (forward-backward-check.ts, control-check.ts). Each is exactly what the zod
 * check it stands for accepts (zod 4: a number is finite, `.int()` is a safe
 * integer, a string's length counts UTF-16 code units), or stricter where the
 * value would be sent differently from the schema's output (see isRecord).
 */

/** A JSON object as a check reads it. */
export type Fields = Record<string, unknown>;

/**
 * An object whose prototype is Object.prototype or null. Stricter than zod
 * (which takes any non-array object): the client sends a value that passed
 * its hand check as is, and for such an object JSON.stringify writes exactly
 * the fields zod would have copied (no inherited fields, no toJSON).
 */
export function isRecord(v: unknown): v is Fields {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The keys of a strict object schema's shape. */
export const keysOf = (schema: { readonly shape: object }): ReadonlySet<string> => new Set(Object.keys(schema.shape));

/**
 * A strict object's key rule: every enumerable key is one of `keys` (zod
 * refuses others), and the `defined` fields the caller checked (those whose
 * value is not undefined) are all enumerable, so JSON.stringify sends them.
 */
export function hasOnlyKeys(o: Fields, keys: ReadonlySet<string>, defined: number): boolean {
  let seen = 0;
  for (const key in o) {
    if (!keys.has(key)) return false;
    if (o[key] !== undefined) seen += 1;
  }
  return seen === defined;
}

/** How many of `values` are not undefined (present optional fields). */
export function countDefined(...values: unknown[]): number {
  let n = 0;
  for (const v of values) if (v !== undefined) n += 1;
  return n;
}

/** `z.number()`: finite. */
export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `z.number().min(min).max(max)`. */
export const isNumberIn = (v: unknown, min: number, max: number): v is number => isNumber(v) && v >= min && v <= max;

/** `z.number().int().min(min).max(max)` (max defaults to the safe-integer limit of `.int()`). */
export const isIntIn = (v: unknown, min: number, max: number = Number.MAX_SAFE_INTEGER): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/** `z.string().min(min).max(max)`. */
export const isStringIn = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max;

/** `z.array(element).min(min).max(max)`; `element` also gets the index. */
export function isArrayOf(v: unknown, min: number, max: number, element: (e: unknown, i: number) => boolean): v is unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max) return false;
  for (let i = 0; i < v.length; i++) if (!element(v[i], i)) return false;
  return true;
}

/** `z.array(z.number().int().min(0)).min(min)`: token ids, the longest arrays of a request. */
export function isTokenIds(v: unknown, min: number): v is number[] {
  if (!Array.isArray(v) || v.length < min) return false;
  for (let i = 0; i < v.length; i++) {
    const id: unknown = v[i];
    if (!Number.isSafeInteger(id) || (id as number) < 0) return false;
  }
  return true;
}

/** `z.array(z.number()).min(min)`. */
export function isNumbers(v: unknown, min: number): v is number[] {
  if (!Array.isArray(v) || v.length < min) return false;
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  }
  return true;
}

/**
 * `z.base64()` of zod 4, exactly: "" or a multiple of 4 characters, no
 * whitespace (`\s`), and atob decodes it. zod tests `\s` with a regex, 25 µs
 * for a 28 KB PNG; here atob (3 µs) decodes first. It drops only ASCII
 * whitespace (any other `\s` makes it throw), and a dropped character makes
 * the decoded length fall short of 3 bytes per 4 characters less the "="
 * padding, which a string without whitespace always meets.
 */
export function isBase64(v: unknown): v is string {
  if (typeof v !== 'string' || v.length % 4 !== 0) return false;
  let decoded: string;
  try {
    decoded = atob(v);
  } catch {
    return false;
  }
  const padding = v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0;
  return v.length === 0 || decoded.length === (v.length / 4) * 3 - padding;
}
