import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDifferadError } from '@differad/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveApiToken, toDefaultTokenFile } from './api-token.js';
import { createAuthenticator, isLoopbackAddress, readCookie, toTokenCookie } from './authenticate.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-api-token-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const request = (headers: Record<string, string>) => headers;

describe('the API token', () => {
  it('is generated once into a 0600 file in a 0700 folder, then read back', async () => {
    const file = join(dir, 'cfg', 'api-token');
    const first = await resolveApiToken({}, file);
    expect(first).toMatchObject({ source: 'generated', file, warning: null });
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'cfg'))).mode & 0o777).toBe(0o700);
    expect(await resolveApiToken({}, file)).toMatchObject({ source: 'file', token: first.token });
  });

  it('prefers DIFFERAD_API_TOKEN, refuses a short one, and tightens a file others can read', async () => {
    const file = join(dir, 'api-token');
    expect(await resolveApiToken({ DIFFERAD_API_TOKEN: 'x'.repeat(20) }, file)).toMatchObject({
      source: 'env',
      token: 'x'.repeat(20),
      file: null,
    });
    const short = await resolveApiToken({ DIFFERAD_API_TOKEN: 'short' }, file).catch((e: unknown) => e);
    expect(isDifferadError(short, 'API_TOKEN_INVALID')).toBe(true);
    await writeFile(file, `${'y'.repeat(32)}\n`);
    await chmod(file, 0o644);
    const loose = await resolveApiToken({}, file);
    expect(loose.token).toBe('y'.repeat(32));
    expect(loose.warning).toContain('now 0600');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe('y'.repeat(32));
  });

  it('lives under XDG_CONFIG_HOME or ~/.config by default', () => {
    expect(toDefaultTokenFile({ XDG_CONFIG_HOME: '/x' })).toBe('/x/differad/api-token');
    expect(toDefaultTokenFile({ HOME: '/home/u' })).toBe('/home/u/.config/differad/api-token');
  });
});

describe('the authenticator', () => {
  const auth = createAuthenticator('t'.repeat(32));

  it('accepts the token as a bearer header or in the dashboard cookie, nothing else', () => {
    expect(auth.authorize(request({ authorization: `Bearer ${'t'.repeat(32)}` }))).toBe('bearer');
    expect(auth.authorize(request({ authorization: `bearer ${'t'.repeat(32)} ` }))).toBe('bearer');
    expect(auth.authorize(request({ cookie: `a=1; ${toTokenCookie('t'.repeat(32)).split(';')[0]}` }))).toBe('cookie');
    expect(auth.authorize(request({}))).toBeNull();
    expect(auth.authorize(request({ authorization: `Bearer ${'t'.repeat(31)}` }))).toBeNull();
    expect(auth.authorize(request({ authorization: `Basic ${'t'.repeat(32)}` }))).toBeNull();
    // A wrong bearer header is not rescued by a right cookie: the header is what the client meant.
    expect(auth.authorize(request({ authorization: 'Bearer nope', cookie: `differad_token=${'t'.repeat(32)}` }))).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Strict cookie and clears it on logout', () => {
    expect(toTokenCookie('a b')).toBe('differad_token=a%20b; Path=/; HttpOnly; SameSite=Strict');
    expect(toTokenCookie(null)).toContain('Max-Age=0');
    expect(readCookie('x=1; differad_token=a%20b', 'differad_token')).toBe('a b');
    expect(readCookie('x=1', 'differad_token')).toBeNull();
  });

  it('takes a token in the login URL only from this machine', () => {
    for (const address of ['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '', undefined]) expect(isLoopbackAddress(address), String(address)).toBe(false);
  });
});
