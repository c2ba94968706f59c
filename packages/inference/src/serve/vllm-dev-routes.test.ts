import { describe, expect, it } from 'vitest';
import type { NcclInitInfo, NcclUpdateInfo } from './nccl-info.js';
import { SlotScheduler } from './slot-scheduler.js';
import { createVllmDevRoutes, type NcclTransport, type VllmDevRoutesOptions } from './vllm-dev-routes.js';

/** A transport that joins at once and records what each receive was told. */
function recordingTransport() {
  const joins: { info: NcclInitInfo; ranks: readonly number[] }[] = [];
  const receives: { update: NcclUpdateInfo; packed: boolean }[] = [];
  const transport: NcclTransport = {
    join: (info, ranks) => {
      joins.push({ info, ranks });
      const receive = (update: NcclUpdateInfo, packed: boolean) => {
        receives.push({ update, packed });
        return Promise.resolve();
      };
      return Promise.resolve({ receive, close: () => undefined });
    },
  };
  return { transport, joins, receives };
}

function routes(over: Partial<VllmDevRoutesOptions> = {}) {
  const rec = recordingTransport();
  const reloaded: (string | null)[] = [];
  const r = createVllmDevRoutes({
    devMode: true,
    weightTransferBackend: 'nccl',
    worldSizePerReplica: 1,
    dataParallel: 1,
    scheduler: new SlotScheduler(2),
    reloadWeights: async (path) => {
      if (path === '/missing') throw new Error("[Errno 2] No such file or directory: '/missing'");
      reloaded.push(path);
    },
    nccl: rec.transport,
    model: 'm',
    logprobsMode: 'raw_logprobs',
    ...over,
  });
  const call = (route: string, body: unknown = null, query = '') => r.handle(route, new URLSearchParams(query), body);
  return { r, call, rec, reloaded };
}

const INIT = { master_address: '10.0.0.1', master_port: 29600, rank_offset: 1, world_size: 2, packed: true };
const UPDATE = { names: ['w'], dtype_names: ['bfloat16'], shapes: [[2, 2]] };
const engineMessage = (reply: { body: unknown } | undefined) =>
  (reply?.body as { error: { message: string; type: string; code: number } }).error;

describe('vLLM 0.32.0 dev routes: init_weight_transfer_engine', () => {
  it('builds NCCLWeightTransferInitInfo field by field, refusing unknown and missing fields with the worker 500', async () => {
    const { call } = routes();
    const backend = await call('POST /init_weight_transfer_engine', { init_info: { backend: 'nccl', ...INIT } });
    expect(backend?.status).toBe(500);
    expect(engineMessage(backend)).toEqual({
      message:
        "Call to collective_rpc method failed: Invalid init_info for NCCLWeightTransferEngine: NCCLWeightTransferInitInfo.__init__() got an unexpected keyword argument 'backend'",
      type: 'InternalServerError',
      param: null,
      code: 500,
    });
    const missing = await call('POST /init_weight_transfer_engine', { init_info: { master_address: 'h', master_port: 1 } });
    expect(engineMessage(missing).message).toContain("missing 2 required keyword-only arguments: 'rank_offset' and 'world_size'");
    const noAddress = await call('POST /init_weight_transfer_engine', { init_info: { rank_offset: 1, world_size: 2 } });
    expect(engineMessage(noAddress).message).toContain(
      'need nccl_unique_id_b64, or both master_address and master_port (got master_address=None, master_port=None)',
    );
    const both = await call('POST /init_weight_transfer_engine', { init_info: { ...INIT, nccl_unique_id_b64: 'AAAA' } });
    expect(engineMessage(both).message).toContain('not both');
  });

  it('answers a body without init_info as a 400 validation error, and a server without a weight-transfer engine with a 500', async () => {
    expect(await routes().call('POST /init_weight_transfer_engine', {})).toMatchObject({
      status: 400,
      body: { error: { type: 'Bad Request', param: 'body.init_info', code: 400 } },
    });
    const none = await routes({ weightTransferBackend: null }).call('POST /init_weight_transfer_engine', { init_info: INIT });
    expect(none?.status).toBe(500);
    expect(engineMessage(none).message).toContain('Weight transfer not configured');
  });

  it('joins the ranks rank_offset.. of every worker (TP × DP) with the packed flag of init_info (default false)', async () => {
    const { call, rec } = routes({ worldSizePerReplica: 2, dataParallel: 2 });
    expect(await call('POST /init_weight_transfer_engine', { init_info: { ...INIT, rank_offset: 3, world_size: 7 } })).toMatchObject({
      status: 200,
      body: { message: 'Weight transfer initialized' },
    });
    expect(rec.joins[0]!.ranks).toEqual([3, 4, 5, 6]);
    await call('POST /start_weight_update');
    await call('POST /update_weights', { update_info: UPDATE });
    const unpacked = {
      master_address: INIT.master_address,
      master_port: INIT.master_port,
      rank_offset: INIT.rank_offset,
      world_size: INIT.world_size,
    };
    await call('POST /finish_weight_update');
    await call('POST /init_weight_transfer_engine', { init_info: unpacked });
    await call('POST /start_weight_update');
    await call('POST /update_weights', { update_info: UPDATE });
    expect(rec.receives.map((x) => x.packed)).toEqual([true, false]);
  });
});

describe('vLLM 0.32.0 dev routes: the update state machine', () => {
  it('refuses update and finish before start, and a second start, as the worker does', async () => {
    const { call } = routes();
    await call('POST /init_weight_transfer_engine', { init_info: INIT });
    expect(engineMessage(await call('POST /update_weights', { update_info: UPDATE })).message).toBe(
      'Call to collective_rpc method failed: start_weight_update must be called before update_weights.',
    );
    expect(engineMessage(await call('POST /finish_weight_update')).message).toContain(
      'finish_weight_update called without a matching start_weight_update.',
    );
    expect((await call('POST /start_weight_update'))?.status).toBe(200);
    expect(engineMessage(await call('POST /start_weight_update')).message).toContain(
      'start_weight_update called while a weight update is already active',
    );
  });

  it('refuses update_info fields NCCLWeightTransferUpdateInfo lacks (version, packed, path), and that failure ends the session', async () => {
    const { r, call, rec } = routes();
    await call('POST /init_weight_transfer_engine', { init_info: INIT });
    for (const extra of [{ version: 3 }, { packed: true }, { path: '/w' }]) {
      await call('POST /start_weight_update');
      const reply = await call('POST /update_weights', { update_info: { ...UPDATE, ...extra } });
      expect(reply?.status).toBe(500);
      expect(engineMessage(reply).message).toContain(`got an unexpected keyword argument '${Object.keys(extra)[0]}'`);
      // The worker cleared the session: finish is refused, start is allowed again.
      expect((await call('POST /finish_weight_update'))?.status).toBe(500);
    }
    await call('POST /start_weight_update');
    expect(engineMessage(await call('POST /update_weights', { update_info: { ...UPDATE, shapes: [] } })).message).toContain(
      '`shapes` should be of the same size as `names`: got 0 and 1',
    );
    expect(rec.receives).toHaveLength(0);
    expect(r.weightVersion).toBe(0);
  });

  it('fails an update without an NCCL group, and counts a version only for a finished update', async () => {
    const { r, call } = routes();
    await call('POST /start_weight_update');
    expect(engineMessage(await call('POST /update_weights', { update_info: UPDATE })).message).toContain(
      'NCCL weight transfer not initialized',
    );
    await call('POST /init_weight_transfer_engine', { init_info: INIT });
    await call('POST /start_weight_update');
    expect((await call('POST /update_weights', { update_info: UPDATE }))?.status).toBe(200);
    expect(r.weightVersion).toBe(0);
    expect((await call('POST /finish_weight_update', { weight_version: 7 }))?.status).toBe(400);
    expect(await call('POST /finish_weight_update', { weight_version: '7' })).toMatchObject({
      status: 200,
      body: { message: 'Weight update finished' },
    });
    expect(r.weightVersion).toBe(1);
    expect(r.weightVersionLabel).toBe('7');
  });

  it('refuses to shut the engine down during an update and allows it otherwise', async () => {
    const { call } = routes();
    await call('POST /init_weight_transfer_engine', { init_info: INIT });
    await call('POST /start_weight_update');
    expect(engineMessage(await call('POST /shutdown_weight_transfer_engine')).message).toContain(
      'Cannot release a trainer connection during a weight update',
    );
    await call('POST /finish_weight_update');
    expect((await call('POST /shutdown_weight_transfer_engine'))?.status).toBe(200);
    await call('POST /start_weight_update');
    expect(engineMessage(await call('POST /update_weights', { update_info: UPDATE })).message).toContain(
      'NCCL weight transfer not initialized',
    );
  });
});

describe('vLLM 0.32.0 dev routes: collective_rpc, pause, world size, dev mode', () => {
  it('reloads weights through collective_rpc reload_weights {weights_path} and refuses other kwargs and methods', async () => {
    const { r, call, reloaded } = routes({ weightTransferBackend: null });
    expect(await call('POST /collective_rpc', { method: 'reload_weights', kwargs: { weights_path: '/w/v3' } })).toEqual({
      status: 200,
      body: { results: [null] },
    });
    expect(reloaded).toEqual(['/w/v3']);
    expect(r.weightVersion).toBe(1);
    expect(engineMessage(await call('POST /collective_rpc', { method: 'reload_weights', kwargs: { path: '/w/v3' } })).message).toContain(
      "unexpected keyword argument 'path'",
    );
    expect((await call('POST /collective_rpc', { method: 'reload_weights', kwargs: { weights_path: '/missing' } }))?.status).toBe(500);
    expect(await call('POST /collective_rpc', { kwargs: {} })).toMatchObject({
      status: 400,
      body: { error: { message: "Missing 'method' in request body" } },
    });
    expect((await call('POST /collective_rpc', [1]))?.status).toBe(400);
    expect(r.weightVersion).toBe(1);
  });

  it('pauses with mode abort|wait|keep only, and reports the world size with and without DP', async () => {
    const { call } = routes({ worldSizePerReplica: 2, dataParallel: 3 });
    expect((await call('POST /pause', null, 'mode=drain'))?.status).toBe(400);
    expect(await call('GET /is_paused')).toEqual({ status: 200, body: { is_paused: false } });
    expect(await call('POST /pause', null, 'mode=wait')).toEqual({ status: 200, body: { status: 'paused' } });
    expect(await call('GET /is_paused')).toEqual({ status: 200, body: { is_paused: true } });
    expect(await call('POST /resume')).toEqual({ status: 200, body: { status: 'resumed' } });
    expect(await call('GET /get_world_size')).toEqual({ status: 200, body: { world_size: 6 } });
    expect(await call('GET /get_world_size', null, 'include_dp=false')).toEqual({ status: 200, body: { world_size: 2 } });
    expect(await call('POST /reset_prefix_cache')).toEqual({ status: 200, body: { success: true } });
  });

  it('answers every dev route with 404 when dev mode is off, but still /version', async () => {
    const { call } = routes({ devMode: false });
    for (const route of [
      'POST /pause',
      'POST /init_weight_transfer_engine',
      'POST /collective_rpc',
      'GET /get_world_size',
      'POST /reset_prefix_cache',
      'GET /server_info',
      'GET /weight_info',
    ]) {
      expect(await call(route, {})).toEqual({ status: 404, body: { detail: 'Not Found' } });
    }
    expect(await call('GET /version')).toEqual({ status: 200, body: { version: '0.32.0' } });
    expect(await call('GET /v1/chat/completions')).toBeUndefined();
  });

  it('reports the model, logprobs mode, parallel sizes and weight-transfer backend in /server_info, and the last version label in /weight_info', async () => {
    const { call } = routes({ worldSizePerReplica: 2, dataParallel: 3, logprobsMode: 'processed_logprobs' });
    expect(await call('GET /server_info', null, 'config_format=json')).toMatchObject({
      status: 200,
      body: {
        vllm_config: {
          model_config: { model: 'm', logprobs_mode: 'processed_logprobs' },
          parallel_config: { tensor_parallel_size: 2, pipeline_parallel_size: 1, data_parallel_size: 3 },
          weight_transfer_config: { backend: 'nccl' },
        },
      },
    });
    expect(typeof ((await call('GET /server_info'))?.body as { vllm_config: unknown }).vllm_config).toBe('string');
    expect((await call('GET /server_info', null, 'config_format=yaml'))?.status).toBe(400);
    const none = routes({ weightTransferBackend: null });
    expect(await none.call('GET /server_info', null, 'config_format=json')).toMatchObject({
      body: { vllm_config: { weight_transfer_config: null, model_config: { logprobs_mode: 'raw_logprobs' } } },
    });
    // v1/engine/core.py: `self._weight_version = "default"` until a label is set.
    expect(await call('GET /weight_info')).toEqual({ status: 200, body: { weight_version: 'default' } });
    await call('POST /start_weight_update');
    expect((await call('POST /finish_weight_update', { weight_version: '7' }))?.status).toBe(200);
    expect(await call('GET /weight_info')).toEqual({ status: 200, body: { weight_version: '7' } });
  });

  it('relabels the weights with update_weight_version, without a weight-transfer engine, and refuses a missing or non-string label', async () => {
    const { call, r } = routes({ weightTransferBackend: null });
    expect(await call('POST /update_weight_version', { new_version: '12' })).toEqual({
      status: 200,
      body: { success: true, new_version: '12' },
    });
    expect(await call('GET /weight_info')).toEqual({ status: 200, body: { weight_version: '12' } });
    expect(r.weightVersionLabel).toBe('12');
    // A label is not a load: the count of loads stays.
    expect(r.weightVersion).toBe(0);
    for (const [body, msg] of [
      [{}, 'Field required'],
      [{ new_version: 13 }, 'Input should be a valid string'],
    ] as const) {
      const reply = await call('POST /update_weight_version', body);
      expect(reply).toMatchObject({ status: 400, body: { error: { type: 'Bad Request', param: 'body.new_version' } } });
      expect(JSON.stringify(reply?.body)).toContain(msg);
    }
    expect(r.weightVersionLabel).toBe('12');
    const noDev = routes({ devMode: false });
    expect((await noDev.call('POST /update_weight_version', { new_version: '1' }))?.status).toBe(404);
  });
});
