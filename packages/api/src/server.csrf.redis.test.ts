import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_API_ORIGIN, type FakeApi, openFakeApi, type ServedFakeApi, startFakeApi } from './testing/fake-api.js';

const TOKEN = 'csrf-test-token-0123456789abcdef';
// Requests go through app.request() with the Host header of this origin: only the login link needs a socket (its peer address).
const origin = FAKE_API_ORIGIN;
let fake: FakeApi;

beforeAll(async () => {
  fake = await openFakeApi(TOKEN);
});

afterAll(async () => {
  await fake?.close();
});

/** `name=value` pairs of a response's Set-Cookie headers. */
const cookiesOf = (res: Response): Record<string, string> =>
  Object.fromEntries(res.headers.getSetCookie().map((c) => c.split(';')[0]!.split('=') as [string, string]));

interface Session {
  /** The Cookie header a browser would send. */
  readonly cookie: string;
  /** The CSRF token the dashboard page embeds for this session. */
  readonly csrf: string;
}

/** Logs in like a browser (the login form, posted from this origin) and reads the CSRF token off the dashboard page. */
async function login(): Promise<Session> {
  const res = await fake.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: `token=${TOKEN}&next=/dashboard`,
  });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/dashboard');
  const cookie = Object.entries(cookiesOf(res))
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  const page = await (await fake.request('/dashboard', { headers: { cookie } })).text();
  const csrf = page.match(/<meta name="csrf-token" content="([^"]+)">/)?.[1];
  expect(csrf, 'the dashboard embeds a CSRF token').toMatch(/^[\w-]{16,}$/);
  return { cookie, csrf: csrf! };
}

const synthBody = JSON.stringify({ normals: 'set', count: 2 });

/** Sends `body` (null: none) with exactly `headers`; the status and the error code, if any. */
async function post(
  path: string,
  headers: Record<string, string>,
  body: string | null = synthBody,
  method = 'POST',
): Promise<{ status: number; code: string | undefined }> {
  const res = await fake.request(path, { method, headers, ...(body === null ? {} : { body }) });
  const text = await res.text();
  const code = text.startsWith('{') ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined;
  return { status: res.status, code };
}

const synthJobs = async (): Promise<string[]> =>
  (
    (await (await fake.request('/v1/synth', { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { jobs: { id: string }[] }
  ).jobs.map((j) => j.id);

async function startSynth(): Promise<string> {
  const res = await fake.request('/v1/synth', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: synthBody,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { job: { id: string } }).job.id;
}

describe('state-changing requests need JSON and, with the cookie, the same origin and the session CSRF token', () => {
  it('refuses cookie requests without JSON, from another origin or without the right CSRF token, and creates nothing', async () => {
    const a = await login();
    const b = await login();
    const before = await synthJobs();
    const refused: [string, Record<string, string>, number, string][] = [
      ['no content type (parsed as JSON before)', { cookie: a.cookie, origin, 'x-csrf-token': a.csrf }, 415, 'API_UNSUPPORTED_MEDIA_TYPE'],
      [
        'a form',
        { cookie: a.cookie, origin, 'x-csrf-token': a.csrf, 'content-type': 'application/x-www-form-urlencoded' },
        415,
        'API_UNSUPPORTED_MEDIA_TYPE',
      ],
      ['text/plain', { cookie: a.cookie, origin, 'x-csrf-token': a.csrf, 'content-type': 'text/plain' }, 415, 'API_UNSUPPORTED_MEDIA_TYPE'],
      [
        'another port of this host',
        { cookie: a.cookie, origin: 'http://127.0.0.1:1', 'x-csrf-token': a.csrf, 'content-type': 'application/json' },
        403,
        'API_CROSS_ORIGIN',
      ],
      [
        'an opaque origin',
        { cookie: a.cookie, origin: 'null', 'x-csrf-token': a.csrf, 'content-type': 'application/json' },
        403,
        'API_CROSS_ORIGIN',
      ],
      [
        'Sec-Fetch-Site same-site',
        { cookie: a.cookie, 'sec-fetch-site': 'same-site', 'x-csrf-token': a.csrf, 'content-type': 'application/json' },
        403,
        'API_CROSS_ORIGIN',
      ],
      ['no CSRF token', { cookie: a.cookie, origin, 'content-type': 'application/json' }, 403, 'API_CSRF_INVALID'],
      [
        'a wrong CSRF token',
        { cookie: a.cookie, origin, 'x-csrf-token': 'x'.repeat(43), 'content-type': 'application/json' },
        403,
        'API_CSRF_INVALID',
      ],
      [
        "another session's CSRF token",
        { cookie: a.cookie, origin, 'x-csrf-token': b.csrf, 'content-type': 'application/json' },
        403,
        'API_CSRF_INVALID',
      ],
      [
        'no Origin and no Sec-Fetch-Site',
        { cookie: a.cookie, 'x-csrf-token': a.csrf, 'content-type': 'application/json' },
        403,
        'API_CROSS_ORIGIN',
      ],
    ];
    for (const [what, headers, status, code] of refused) expect(await post('/v1/synth', headers), what).toEqual({ status, code });
    expect(await synthJobs()).toEqual(before);

    const ok = await post('/v1/synth', {
      cookie: a.cookie,
      origin,
      'x-csrf-token': a.csrf,
      'content-type': 'application/json; charset=utf-8',
    });
    expect(ok.status).toBe(201);
    const sameOrigin = await post('/v1/synth', {
      cookie: b.cookie,
      'sec-fetch-site': 'same-origin',
      'x-csrf-token': b.csrf,
      'content-type': 'application/json',
    });
    expect(sameOrigin.status).toBe(201);
  });

  it('cancels only with JSON and the token: a form post to cancel leaves the job running', async () => {
    const s = await login();
    const id = await startSynth();
    const cancel = `/v1/synth/${id}/cancel`;
    expect(await post(cancel, { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' }, 'confirm=yes')).toMatchObject({
      status: 403,
    });
    expect(
      await post(
        cancel,
        { cookie: s.cookie, origin, 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': s.csrf },
        'confirm=yes',
      ),
    ).toEqual({ status: 415, code: 'API_UNSUPPORTED_MEDIA_TYPE' });
    expect(await post(cancel, { authorization: `Bearer ${TOKEN}` }, null)).toEqual({ status: 415, code: 'API_UNSUPPORTED_MEDIA_TYPE' });
    expect(fake.running.has(`synth:${id}`)).toBe(true);
    expect(
      await post(cancel, { cookie: s.cookie, origin, 'content-type': 'application/json', 'x-csrf-token': s.csrf }, '{}'),
    ).toMatchObject({ status: 200 });
    expect(fake.running.has(`synth:${id}`)).toBe(false);
  });

  it('takes the bearer token without a CSRF token, but still only JSON and never from another origin', async () => {
    const bearer = { authorization: `Bearer ${TOKEN}` };
    expect(await post('/v1/synth', bearer)).toEqual({ status: 415, code: 'API_UNSUPPORTED_MEDIA_TYPE' });
    expect(await post('/v1/synth', { ...bearer, 'content-type': 'text/plain' })).toEqual({
      status: 415,
      code: 'API_UNSUPPORTED_MEDIA_TYPE',
    });
    expect(await post('/v1/synth', { ...bearer, 'content-type': 'application/json', origin: 'http://127.0.0.1:1' })).toEqual({
      status: 403,
      code: 'API_CROSS_ORIGIN',
    });
    // The token in a cookie is not a bearer token: the cookie path needs the CSRF token.
    expect(await post('/v1/synth', { cookie: `differad_token=${TOKEN}`, origin, 'content-type': 'application/json' })).toEqual({
      status: 403,
      code: 'API_CSRF_INVALID',
    });
    expect((await post('/v1/synth', { ...bearer, 'content-type': 'application/json' })).status).toBe(201);
    const cancelled = await post(`/v1/synth/${await startSynth()}/cancel`, { ...bearer, 'content-type': 'application/json' }, null);
    expect(cancelled.status).toBe(200);
  });

  it('grants no CORS preflight and refuses login and logout posted from another origin', async () => {
    const preflight = await fake.request('/v1/synth', {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:1', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.ok).toBe(false);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://127.0.0.1:1' };
    expect(await post('/login', form, `token=${TOKEN}&next=/dashboard`)).toEqual({ status: 403, code: 'API_CROSS_ORIGIN' });
    expect(await post('/logout', form, '')).toEqual({ status: 403, code: 'API_CROSS_ORIGIN' });
    const own = await fake.request('/logout', { method: 'POST', headers: { ...form, origin }, body: '' });
    expect(own.status).toBe(303);
    expect(Object.keys(cookiesOf(own))).toEqual(expect.arrayContaining(['differad_token', 'differad_session']));
  });

  it("lets bull-board's own requests through with its XSRF cookie echoed, and nothing without it", async () => {
    const s = await login();
    const board = await fake.request('/dashboard/queues', { headers: { cookie: s.cookie } });
    expect(board.status).toBe(200);
    const xsrf = cookiesOf(board)['XSRF-TOKEN'];
    expect(xsrf).toMatch(/^[\w%-]{16,}$/);
    expect(board.headers.getSetCookie().find((c) => c.startsWith('XSRF-TOKEN='))).toContain('Path=/dashboard/queues');
    const pause = '/dashboard/queues/api/queues/rollout/pause';
    expect(await post(pause, { cookie: s.cookie, origin }, null, 'PUT')).toEqual({ status: 403, code: 'API_CSRF_INVALID' });
    expect(
      await post(pause, { cookie: s.cookie, origin: 'http://127.0.0.1:1', 'x-xsrf-token': decodeURIComponent(xsrf!) }, null, 'PUT'),
    ).toEqual({ status: 403, code: 'API_CROSS_ORIGIN' });
    expect((await post(pause, { cookie: s.cookie, origin, 'x-xsrf-token': decodeURIComponent(xsrf!) }, null, 'PUT')).status).toBe(200);
    expect(
      (
        await post(
          '/dashboard/queues/api/queues/rollout/resume',
          { cookie: s.cookie, origin, 'x-xsrf-token': decodeURIComponent(xsrf!) },
          null,
          'PUT',
        )
      ).status,
    ).toBe(200);
  });
});

describe('the login redirect', () => {
  // The login link takes a token only from a loopback peer: a socket.
  let served: ServedFakeApi;
  beforeAll(async () => {
    served = await startFakeApi(TOKEN);
  });
  afterAll(async () => {
    await served?.close();
  });

  // Raw query strings: each `next` arrives exactly as an attacker would write it.
  const offsite = [
    '/%09/evil.com',
    '/%0a/evil.com',
    '/%0d%0a/evil.com',
    '//evil.com',
    '/%5Cevil.com',
    '/\\evil.com',
    'https://evil.com',
    'https:/evil.com',
    '/%2509/evil.com',
    '/%2F/evil.com',
    '%2F%2Fevil.com',
    'javascript:alert(1)',
    '/x/%00',
    ' /dashboard',
    '/dash%20board',
  ];

  it('goes only to a same-origin path: anything else becomes /dashboard', async () => {
    for (const next of offsite) {
      const viaLink = await fetch(`${served.url}/login?token=${TOKEN}&next=${next}`, { redirect: 'manual' });
      expect(viaLink.headers.get('location'), next).toBe('/dashboard');
      const viaForm = await fetch(`${served.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: served.url },
        body: `token=${TOKEN}&next=${next}`,
        redirect: 'manual',
      });
      expect(viaForm.headers.get('location'), next).toBe('/dashboard');
    }
    const kept = await fetch(`${served.url}/login?token=${TOKEN}&next=${encodeURIComponent('/dashboard/runs/a-1?x=1')}`, {
      redirect: 'manual',
    });
    expect(kept.headers.get('location')).toBe('/dashboard/runs/a-1?x=1');
    expect(kept.headers.getSetCookie().map((c) => c.split('=')[0])).toEqual(expect.arrayContaining(['differad_token', 'differad_session']));
  });

  it('takes a token in the URL only from this machine: without a loopback peer it is refused and sets no cookie', async () => {
    const res = await fake.request(`/login?token=${TOKEN}&next=/dashboard`);
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await res.text()).toContain('accepted only from 127.0.0.1');
  });
});
