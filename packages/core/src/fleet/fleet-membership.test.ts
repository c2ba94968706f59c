import { describe, expect, it } from 'vitest';
import {
  decideFleetSync,
  type FleetPool,
  FleetPoolSchema,
  planFleetSync,
  planReadmit,
  toReadmitRefusal,
  toRolloutTarget,
  toWeightsLost,
} from './fleet-membership.js';

const A = 'http://a:8000';
const B = 'http://b:8000';
const C = 'http://c:8000';

const pool = (version: number, members: FleetPool['members']): FleetPool => ({ step: version - 1, version, members });

describe('planFleetSync', () => {
  it('syncs every healthy server, marks servers out of the pool as rejoining, and skips unhealthy ones with the reason', () => {
    const previous = pool(3, [
      { url: A, state: 'in', version: 3 },
      { url: B, state: 'out', version: null, reason: 'health check failed: ECONNREFUSED' },
      { url: C, state: 'in', version: 3 },
    ]);
    const plan = planFleetSync([A, B, C], previous, { [A]: { ok: true }, [B]: { ok: true }, [C]: { ok: false, reason: 'HTTP 503' } });
    expect(plan).toEqual({ targets: [A, B], rejoining: [B], unhealthy: [{ url: C, reason: 'HTTP 503' }] });
  });

  it('before the first sync every server is in, and a server without a health result is not synced', () => {
    expect(planFleetSync([A, B], null, { [A]: { ok: true } })).toEqual({
      targets: [A],
      rejoining: [],
      unhealthy: [{ url: B, reason: 'no health check' }],
    });
  });
});

describe('decideFleetSync', () => {
  it('goes on without a server whose sync failed, counting each server once', () => {
    const d = decideFleetSync({
      servers: [A, B],
      previous: null,
      outcomes: { [A]: { kind: 'synced' }, [B]: { kind: 'failed', reason: 'pause: connect ECONNREFUSED; resume: connect ECONNREFUSED' } },
      step: 1,
      version: 2,
      minServers: 1,
    });
    expect(d.kind).toBe('continue');
    expect(d.active).toEqual([A]);
    expect(d.out).toEqual([{ url: B, reason: 'weight sync failed: pause: connect ECONNREFUSED; resume: connect ECONNREFUSED' }]);
    expect(d.left).toEqual([B]);
    expect(d.rejoined).toEqual([]);
    expect(d.message).toMatch(/^1 of 2 inference servers out of the rollout pool, going on with 1: http:\/\/b:8000 \(weight sync failed/);
    expect(d.pool).toEqual({
      step: 1,
      version: 2,
      members: [
        { url: A, state: 'in', version: 2 },
        { url: B, state: 'out', version: null, reason: d.out[0]!.reason },
      ],
    });
    expect(FleetPoolSchema.parse(d.pool)).toEqual(d.pool);
  });

  it('brings a returning server back in at the new version and reports it as rejoined', () => {
    const previous = pool(2, [
      { url: A, state: 'in', version: 2 },
      { url: B, state: 'out', version: null, reason: 'x' },
    ]);
    const d = decideFleetSync({
      servers: [A, B],
      previous,
      outcomes: { [A]: { kind: 'synced' }, [B]: { kind: 'synced' } },
      step: 2,
      version: 3,
      minServers: 2,
    });
    expect(d).toMatchObject({ kind: 'continue', active: [A, B], out: [], rejoined: [B], left: [] });
    expect(d.pool.members.map((m) => [m.state, m.version])).toEqual([
      ['in', 3],
      ['in', 3],
    ]);
    expect(d.message).toBe('2 of 2 inference servers in the rollout pool at weight version 3');
  });

  it('fails below policy.minServers, naming every server that is out and why', () => {
    const d = decideFleetSync({
      servers: [A, B, C],
      previous: null,
      outcomes: { [A]: { kind: 'synced' }, [B]: { kind: 'unhealthy', reason: 'HTTP 503' } },
      step: 4,
      version: 5,
      minServers: 2,
    });
    expect(d.kind).toBe('fail');
    expect(d.out.map((o) => o.url)).toEqual([B, C]);
    expect(d.message).toBe(
      '1 of 3 inference servers hold weight version 5, fewer than policy.minServers 2; out: http://b:8000 (health check failed: HTTP 503); http://c:8000 (weight sync failed: no sync outcome)',
    );
    // Exactly at the floor it goes on.
    expect(
      decideFleetSync({ servers: [A, B], previous: null, outcomes: { [A]: { kind: 'synced' } }, step: 0, version: 1, minServers: 1 }).kind,
    ).toBe('continue');
    expect(
      decideFleetSync({
        servers: [A],
        previous: null,
        outcomes: { [A]: { kind: 'failed', reason: 'x' } },
        step: 0,
        version: 1,
        minServers: 1,
      }).kind,
    ).toBe('fail');
  });
});

describe('toRolloutTarget', () => {
  it('gives rollouts of a version only to servers in the pool at that version, synced by this run', () => {
    const p = pool(3, [
      { url: A, state: 'in', version: 3 },
      { url: B, state: 'out', version: null, reason: 'x' },
      { url: C, state: 'in', version: 2 },
    ]);
    expect(toRolloutTarget([A, B, C], p, 3)).toEqual({ servers: [A], synced: true });
    expect(toRolloutTarget([A, B, C], pool(3, [{ url: A, state: 'out', version: null, reason: 'x' }]), 3)).toEqual({
      servers: [],
      synced: true,
    });
  });

  it('uses every server, not synced by this run, before the run has a pool and for a version the pool is not of (an all-or-nothing sync made it)', () => {
    expect(toRolloutTarget([A, B], null, 0)).toEqual({ servers: [A, B], synced: false });
    const p = pool(3, [
      { url: A, state: 'in', version: 3 },
      { url: B, state: 'out', version: null, reason: 'x' },
    ]);
    expect(toRolloutTarget([A, B], p, 2)).toEqual({ servers: [A, B], synced: false });
  });
});

describe('toReadmitRefusal', () => {
  const member = { url: A, state: 'in' as const, version: 3 };
  it('lets a pool member back when its label is the version it was synced to, or newer (a sync in progress)', () => {
    expect(toReadmitRefusal(member, '3')).toBeNull();
    expect(toReadmitRefusal(member, '4')).toBeNull();
  });
  it('keeps out a member whose label is older, unset ("default", as after a restart), absent or not a version', () => {
    expect(toReadmitRefusal(member, '2')).toBe(
      `it reports weight version "2", not the pool's 3 (restarted since its last sync?): out until the next sync`,
    );
    expect(toReadmitRefusal(member, 'default')).toContain('weight version "default", not the pool\'s 3');
    expect(toReadmitRefusal(member, null)).toContain('weight version none');
    expect(toReadmitRefusal(member, '03')).not.toBeNull();
  });
  it('checks nothing for a server out of the pool or not in it: the pool gives it no rollout', () => {
    expect(toReadmitRefusal({ url: B, state: 'out', version: null, reason: 'x' }, 'default')).toBeNull();
    expect(toReadmitRefusal(undefined, 'default')).toBeNull();
  });
});

describe('planReadmit', () => {
  const member = { url: A, state: 'in' as const, version: 3 };
  const pool = { step: 2, version: 3, members: [member, { url: B, state: 'in' as const, version: 3 }] };
  it('lets in a member that holds its weights, whatever the pool records', () => {
    expect(planReadmit({ ...pool, weightsPath: '/w/v3' }, member, '3')).toEqual({ kind: 'admit' });
  });
  it('after a disk sync, loads a member that lost its weights from the folder of the version it was synced to', () => {
    expect(planReadmit({ ...pool, weightsPath: '/w/v3' }, member, 'default')).toEqual({
      kind: 'reload',
      version: 3,
      path: '/w/v3',
      reason: toReadmitRefusal(member, 'default'),
    });
  });
  it('keeps it out after an nccl sync (no folder), or when it was synced to another version than the folder holds', () => {
    expect(planReadmit(pool, member, 'default')).toEqual({ kind: 'refuse', reason: toReadmitRefusal(member, 'default') });
    expect(planReadmit({ ...pool, version: 4, weightsPath: '/w/v4' }, member, 'default')).toMatchObject({ kind: 'refuse' });
  });
});

describe('toWeightsLost', () => {
  it('refuses, for synced weights, a reply without the version the server reported before (a restart), and one older than asked', () => {
    expect(toWeightsLost({ reported: null, before: 4, synced: true })).toBe('it reported weight version 4 before and none now');
    expect(toWeightsLost({ reported: 0, before: 4, synced: true, min: 4 })).toBe(
      'it reports weight version 0, older than the 4 it was synced to',
    );
  });

  it('lets through a server that never reported a version, a newer or equal one, an older one nobody asked about, and any reply to a request for no synced weights', () => {
    expect(toWeightsLost({ reported: null, before: null, synced: true, min: 4 })).toBeNull();
    expect(toWeightsLost({ reported: 5, before: 4, synced: true, min: 4 })).toBeNull();
    expect(toWeightsLost({ reported: 3, before: 4, synced: true })).toBeNull();
    expect(toWeightsLost({ reported: null, before: 4, synced: false, min: 4 })).toBeNull();
    expect(toWeightsLost({ reported: 0, before: 4, synced: false, min: 4 })).toBeNull();
  });
});
