import { createHash, timingSafeEqual } from 'node:crypto';

/** A request's headers by lower-case name (Hono's `c.req.header()`). */
export type RequestHeaders = Readonly<Record<string, string | undefined>>;

/** The dashboard's session cookie: it holds the token itself, HttpOnly and SameSite=Strict. */
export const TOKEN_COOKIE = 'differad_token';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The value of cookie `name` in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}

/** The Set-Cookie value that logs a browser in (or out, with `null`). */
export function toTokenCookie(token: string | null): string {
  const attributes = 'Path=/; HttpOnly; SameSite=Strict';
  return token === null ? `${TOKEN_COOKIE}=; ${attributes}; Max-Age=0` : `${TOKEN_COOKIE}=${encodeURIComponent(token)}; ${attributes}`;
}

/** How a request proved it holds the token: the Authorization header, or the dashboard's cookie. */
export type AuthMethod = 'bearer' | 'cookie';

/** Checks presented tokens against the server's one. */
export interface Authenticator {
  /** Constant-time: both sides are hashed to 32 bytes first, so neither length nor content leaks through timing. */
  matches(candidate: string | null | undefined): boolean;
  /**
   * `bearer` for a right `Authorization: Bearer …`, `cookie` for the right
   * token in the dashboard cookie (only when no Authorization header is sent),
   * null otherwise. A browser attaches the cookie to requests other pages make,
   * so a cookie alone does not allow a change (see the CSRF check).
   */
  authorize(headers: RequestHeaders): AuthMethod | null;
}

/** An authenticator for `token`. */
export function createAuthenticator(token: string): Authenticator {
  const expected = digest(token);
  const matches = (candidate: string | null | undefined): boolean => {
    if (typeof candidate !== 'string' || candidate === '') return false;
    return timingSafeEqual(digest(candidate), expected);
  };
  return {
    matches,
    authorize(headers) {
      const header = headers.authorization;
      if (header !== undefined) return matches(header.match(/^Bearer\s+(\S+)\s*$/i)?.[1]) ? 'bearer' : null;
      return matches(readCookie(headers.cookie, TOKEN_COOKIE)) ? 'cookie' : null;
    },
  };
}

/** True for a peer address on this machine's loopback interface (undefined: no socket, as under `app.request()`). */
export function isLoopbackAddress(address: string | undefined = ''): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
