import { isDifferadError } from '@differad/core';
import type { VllmControl } from '@differad/inference';
import { describe, expect, it } from 'vitest';
import { type NcclWeightSyncSource, syncWeightsNccl, toNcclGroup, type WeightSyncTarget } from './weight-sync.js';

const MANIFEST = { names: ['threshold.mean', 'threshold.log_std'], dtypes: ['float64', 'float64'], shapes: [[], []] };

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records every call as `url method` or `url method:end`; update_weights ends only once the trainer's send has started. */
function recordingTarget(url: string, log: string[], sendStarted: Promise<void>, fail?: string): WeightSyncTarget & { infos: unknown[] } {
  const infos: unknown[] = [];
  const call = (name: string) => async () => {
    log.push(`${url} ${name}`);
    if (name === fail) throw new Error(`${name} broke`);
    return {};
  };
  const control = {
    url,
    pause: call('pause'),
    resume: call('resume'),
    initWeightTransferEngine: async (info: unknown) => {
      infos.push(info);
      return call('init')();
    },
    startWeightUpdate: call('start'),
    async updateWeights(info: unknown) {
      infos.push(info);
      await call('update')();
      await sendStarted; // a broadcast needs both sides
      await tick();
      log.push(`${url} update:end`);
      return {};
    },
    finishWeightUpdate: call('finish'),
    resetPrefixCache: call('reset'),
  } as unknown as VllmControl;
  return { url, control, infos };
}

function setup(fail?: { target?: string; send?: boolean }) {
  const log: string[] = [];
  let started!: () => void;
  const sendStarted = new Promise<void>((resolve) => (started = resolve));
  const targets = ['http://a', 'http://b'].map((url) => recordingTarget(url, log, sendStarted, url === 'http://b' ? fail?.target : undefined));
  const group = toNcclGroup('http://trainer:8200', targets.length);
  const source: NcclWeightSyncSource = {
    version: 3,
    manifest: MANIFEST,
    initInfo: (_t, i) => ({ ...group, rank_offset: 1 + i }),
    updateInfo: { packed: true },
    async send() {
      log.push('trainer send');
      started();
      // The trainer's broadcast ends only after every server is receiving.
      while (log.filter((l) => l.endsWith(' update')).length < targets.length && !log.some((l) => l.includes('broke'))) await tick();
      if (fail?.send) throw new Error('nccl broadcast broke');
      await tick();
      log.push('trainer send:end');
    },
  };
  return { log, targets, source };
}

describe('syncWeightsNccl', () => {
  it('pauses, inits once, starts, overlaps every update with the trainer send, then finishes, resets and resumes', async () => {
    const { log, targets, source } = setup();
    const initialized = new Set<string>();
    await syncWeightsNccl(targets, source, initialized);
    for (const url of ['http://a', 'http://b']) {
      const own = log.filter((l) => l.startsWith(url)).map((l) => l.slice(url.length + 1));
      expect(own).toEqual(['pause', 'init', 'start', 'update', 'update:end', 'finish', 'reset', 'resume']);
      // The two sides were in flight together: each started before the other ended.
      expect(log.indexOf(`${url} update`)).toBeLessThan(log.indexOf('trainer send:end'));
      expect(log.indexOf('trainer send')).toBeLessThan(log.indexOf(`${url} update:end`));
      expect(log.indexOf(`${url} pause`)).toBeLessThan(log.indexOf('trainer send'));
      expect(log.indexOf(`${url} finish`)).toBeGreaterThan(log.indexOf('trainer send:end'));
    }
    expect(targets[1]!.infos).toEqual([
      { master_address: 'trainer', master_port: 29_600, world_size: 3, rank_offset: 2 },
      { packed: true, names: MANIFEST.names, dtype_names: MANIFEST.dtypes, shapes: MANIFEST.shapes, version: 3 },
    ]);
    expect([...initialized]).toEqual(['http://a', 'http://b']);

    log.length = 0;
    await syncWeightsNccl(targets, source, initialized);
    expect(log.filter((l) => l.endsWith(' init'))).toEqual([]);
  });

  it.each([
    ['a server update', { target: 'update' }],
    ['the trainer send', { send: true }],
  ])('on an error in %s finishes and resumes every server, raises SYNC_FAILED and re-inits next time', async (_label, fail) => {
    const { log, targets, source } = setup(fail);
    const initialized = new Set<string>();
    const error = await syncWeightsNccl(targets, source, initialized).catch((e: unknown) => e);
    expect(isDifferadError(error, 'SYNC_FAILED')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    expect((error as Error).message).toContain('broke');
    for (const url of ['http://a', 'http://b']) {
      expect(log.indexOf(`${url} finish`)).toBeGreaterThan(-1);
      expect(log.indexOf(`${url} resume`)).toBeGreaterThan(log.indexOf(`${url} finish`));
      expect(log.includes(`${url} reset`)).toBe(false);
    }
    expect(initialized.size).toBe(0);

    const healthy = setup();
    await syncWeightsNccl(healthy.targets, healthy.source, initialized);
    expect(healthy.log.filter((l) => l.endsWith(' init'))).toEqual(['http://a init', 'http://b init']);
  });

  it('refuses a manifest whose lists differ in length before touching a server', async () => {
    const { log, targets, source } = setup();
    const error = await syncWeightsNccl(targets, { ...source, manifest: { ...MANIFEST, shapes: [[]] } }, new Set()).catch((e: unknown) => e);
    expect(isDifferadError(error, 'SYNC_FAILED')).toBe(true);
    expect(log).toEqual([]);
  });
});
