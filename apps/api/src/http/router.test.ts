import { describe, expect, it } from 'vitest';
import { matchRoute, type Route } from './router.js';

const route = (method: Route['method'], path: string): Route => ({ method, path, auth: true, handle: () => undefined });
const routes = [route('GET', '/v1/runs'), route('POST', '/v1/runs'), route('GET', '/v1/runs/:id'), route('POST', '/v1/runs/:id/cancel'), route('GET', '/dashboard/queues/*')];

describe('matchRoute', () => {
  it('finds routes with parameters, answers 405 with the allowed methods, and 404 otherwise', () => {
    expect(matchRoute(routes, 'GET', '/v1/runs/run%2D1')).toMatchObject({ kind: 'found', params: { id: 'run-1' } });
    expect(matchRoute(routes, 'HEAD', '/v1/runs')).toMatchObject({ kind: 'found', route: { method: 'GET' } });
    expect(matchRoute(routes, 'DELETE', '/v1/runs')).toEqual({ kind: 'method', allow: ['GET', 'POST'], auth: true });
    expect(matchRoute(routes, 'GET', '/v1/runs/a/b')).toEqual({ kind: 'none' });
    // A parameter that does not decode is passed on as sent, for the route to refuse with 400.
    expect(matchRoute(routes, 'GET', '/v1/runs/%E0%A4%A')).toMatchObject({ kind: 'found', params: { id: '%E0%A4%A' } });
  });

  it('matches a mount and everything under it, but not a longer sibling name', () => {
    expect(matchRoute(routes, 'GET', '/dashboard/queues').kind).toBe('found');
    expect(matchRoute(routes, 'GET', '/dashboard/queues/static/js/main.js').kind).toBe('found');
    expect(matchRoute(routes, 'GET', '/dashboard/queuesX').kind).toBe('none');
  });
});
