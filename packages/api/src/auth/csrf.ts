import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The dashboard session's random id, HttpOnly: a login gets a fresh one. It
 * is what the CSRF token is bound to, so a token from one session is worthless
 * in another.
 */
export const SESSION_COOKIE = 'differad_session';
/** The header the dashboard's own script echoes the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
/**
 * bull-board's prebuilt UI sends its requests with axios, which echoes the
 * `XSRF-TOKEN` cookie in this header on same-origin requests.
 */
export const BOARD_CSRF_HEADER = 'x-xsrf-token';
/** The cookie axios reads for {@link BOARD_CSRF_HEADER}; scoped to the bull-board mount. */
export const BOARD_CSRF_COOKIE = 'XSRF-TOKEN';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** A fresh session id (256 random bits, base64url). */
export function createSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** True for something {@link createSessionId} could have made (a cookie is client input). */
export function isSessionId(value: string | null | undefined): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

/** The Set-Cookie value of the session id (or its removal, with `null`). */
export function toSessionCookie(id: string | null): string {
  const attributes = 'Path=/; HttpOnly; SameSite=Strict';
  return id === null ? `${SESSION_COOKIE}=; ${attributes}; Max-Age=0` : `${SESSION_COOKIE}=${id}; ${attributes}`;
}

/** The Set-Cookie value of bull-board's CSRF cookie (script-readable on the mount only, which axios needs). */
export function toBoardCsrfCookie(token: string | null, path: string): string {
  const attributes = `Path=${path}; SameSite=Strict`;
  return token === null ? `${BOARD_CSRF_COOKIE}=; ${attributes}; Max-Age=0` : `${BOARD_CSRF_COOKIE}=${token}; ${attributes}`;
}

/** Makes and checks CSRF tokens: HMAC-SHA256 of the session id under a key only the server has. */
export interface CsrfTokens {
  /** The token of session `sessionId`. */
  tokenFor(sessionId: string): string;
  /** True when `presented` is the token of `sessionId`; constant time in the presented value. */
  verify(sessionId: string | null, presented: string | null | undefined): boolean;
}

/**
 * CSRF tokens keyed by `secret` (the API token: a page needs no server-side
 * session table and a restart keeps open pages working). A signed token
 * rather than a plain copy of a cookie: a page on another port of this host
 * shares the cookie jar and could plant a cookie, but cannot sign one.
 */
export function createCsrfTokens(secret: string): CsrfTokens {
  const key = createHmac('sha256', secret).update('differad csrf v1').digest();
  const tokenFor = (sessionId: string): string => createHmac('sha256', key).update(sessionId).digest('base64url');
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return {
    tokenFor,
    verify(sessionId, presented) {
      if (!isSessionId(sessionId) || typeof presented !== 'string' || presented === '') return false;
      return timingSafeEqual(digest(presented), digest(tokenFor(sessionId)));
    },
  };
}
