import { describe, expect, it } from 'vitest';
import { createTrainerApp, type TrainerHandlers } from './trainer-app.js';

// Routing and the error body need no socket: the app answers app.request() directly.
const health = {
  status: 'ok',
  api_version: 'v1',
  backend: 'cpu',
  model: 'm',
  world_size: 1,
  run: null,
  step: null,
  weight_version: 0,
  pending: null,
} as const;
const handlers = { health: () => health, metrics: () => 'differad_trainer_up 1\n' } as unknown as TrainerHandlers;
const errors: string[] = [];
const app = createTrainerApp(handlers, { maxBodyBytes: 256, onError: (status, code) => errors.push(`${status} ${code}`) });

describe('the CPU trainer app', () => {
  it('serves health and the metrics text', async () => {
    expect(await (await app.request('/v1/health')).json()).toEqual(health);
    const metrics = await app.request('/metrics');
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(await metrics.text()).toBe('differad_trainer_up 1\n');
  });

  it.each([
    ['GET', '/v1/nowhere', undefined, 404, { code: 'TRAINER_NOT_FOUND', message: 'no route /v1/nowhere', details: {} }],
    ['GET', '/v1/optim_step', undefined, 405, { code: 'TRAINER_METHOD_NOT_ALLOWED', message: 'GET /v1/optim_step: use POST', details: {} }],
    ['HEAD', '/v1/optim_step', undefined, 405, null],
    ['POST', '/metrics', undefined, 405, { code: 'TRAINER_METHOD_NOT_ALLOWED', message: 'POST /metrics: use GET', details: {} }],
    ['POST', '/v1/optim_step', '{', 400, { code: 'TRAINER_REQUEST_INVALID', details: { fields: [{ field: '', message: 'not JSON' }] } }],
    [
      'POST',
      '/v1/optim_step',
      '{"run":"r"}',
      400,
      { code: 'TRAINER_REQUEST_INVALID', details: { fields: expect.arrayContaining([expect.objectContaining({ field: 'step' })]) } },
    ],
    [
      'POST',
      '/v1/optim_step',
      'x'.repeat(300),
      413,
      { code: 'TRAINER_BODY_TOO_LARGE', message: 'the body is larger than 256 bytes', details: { limit: 256 } },
    ],
  ])('answers %s %s (%s) with %i and the error body', async (method, path, body, status, error) => {
    const res = await app.request(path, { method, body });
    expect(res.status).toBe(status);
    if (error) expect(((await res.json()) as { error: unknown }).error).toMatchObject(error);
    expect(errors.at(-1)).toMatch(new RegExp(`^${status} TRAINER_`));
  });
});
