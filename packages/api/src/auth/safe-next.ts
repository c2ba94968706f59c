/** Where the login sends a browser when `next` is missing or not a path of this origin. */
export const DEFAULT_NEXT = '/dashboard';

// Whitespace and control characters: browsers strip tab and newlines from a URL (so `/\t/evil.com` is `//evil.com`).
const UNSAFE = /[\s\p{Cc}\p{Cf}\\]/u;

function isSafePath(path: string): boolean {
  return path.startsWith('/') && !path.includes('//') && !UNSAFE.test(path);
}

/**
 * `next` when it is a path of this origin, else {@link DEFAULT_NEXT}: it
 * starts with one `/`, has no `//`, no backslash, no whitespace or control
 * character, and none of these appear after percent-decoding it once more
 * either (so `/%2509/evil.com` is refused too). A scheme cannot pass the
 * leading `/`, and the result must still resolve to the same origin.
 */
export function toSafeNext(next: string | null | undefined): string {
  if (typeof next !== 'string' || next.length > 2048 || !isSafePath(next)) return DEFAULT_NEXT;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return DEFAULT_NEXT;
  }
  if (!isSafePath(decoded)) return DEFAULT_NEXT;
  const base = 'http://differad.invalid';
  return new URL(next, base).origin === base ? next : DEFAULT_NEXT;
}
