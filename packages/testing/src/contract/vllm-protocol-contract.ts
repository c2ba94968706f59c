/**
 * The vLLM 0.32.0 protocol part of the inference contract: the shapes and
 * states differad's own servers (the fake vLLM, the CPU policy, both on the
 * vLLM server kit of @differad/inference) must share with the real server.
 * Each test is a place where the twins once disagreed; each expectation cites
 * the vLLM file it follows (docs/vllm-protocol.md).
 */
import { type CompletionRequest, type Fleet, toChatRequestBody } from '@differad/inference';
import type { InferenceContractServer, InferenceContractTestApi } from './inference-contract.js';

/** What the protocol tests need from the suite around them. */
export interface VllmProtocolContext {
  readonly server: () => InferenceContractServer;
  readonly fleet: () => Fleet;
  /** The suite's paired-image request, one completion. */
  readonly request: () => CompletionRequest;
  /** Runs the one test that kills the engine (never against a shared live server). */
  readonly killable: boolean;
}

type ErrorBody = { error: { message: string; type: string; param: string | null; code: number } };

async function call(
  server: InferenceContractServer,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  contentType = 'application/json',
) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text === '' ? null : JSON.parse(text)) as Record<string, unknown> & ErrorBody };
}

const keys = (v: unknown) => Object.keys(v as object).sort();

/** Registers the protocol tests inside the suite's describe. */
export function defineVllmProtocolTests(t: InferenceContractTestApi, ctx: VllmProtocolContext): void {
  const { it, expect } = t;
  const post = (path: string, body: unknown = {}, contentType?: string) => call(ctx.server(), 'POST', path, body, contentType);
  const get = (path: string) => call(ctx.server(), 'GET', path);
  const chatBody = (over: Record<string, unknown> = {}) => ({ ...toChatRequestBody(ctx.server().model, ctx.request()), ...over });
  const state = async () => ({ paused: (await get('/is_paused')).json.is_paused, sleeping: (await get('/is_sleeping')).json.is_sleeping });

  it("lists the model as vLLM's ModelCard (entrypoints/serve/engine/protocol.py)", async () => {
    const { json } = await get('/v1/models');
    const [card] = json.data as Record<string, unknown>[];
    expect(keys(card)).toEqual(['created', 'id', 'max_model_len', 'object', 'owned_by', 'parent', 'permission', 'root']);
    expect(card).toMatchObject({
      id: ctx.server().model,
      object: 'model',
      owned_by: 'vllm',
      parent: null,
      max_model_len: expect.any(Number),
    });
    expect((card!.permission as Record<string, unknown>[])[0]).toMatchObject({
      object: 'model_permission',
      allow_sampling: true,
      allow_logprobs: true,
    });
    expect(await get('/version')).toMatchObject({ status: 200, json: { version: '0.32.0' } });
  });

  it("answers with every field of vLLM's ChatCompletionResponse (entrypoints/openai/chat_completion/protocol.py)", async () => {
    const { status, json } = await post('/v1/chat/completions', chatBody());
    expect(status).toBe(200);
    expect(keys(json)).toEqual(
      [
        'choices',
        'created',
        'ec_transfer_params',
        'id',
        'kv_transfer_params',
        'metrics',
        'model',
        'object',
        'prompt_logprobs',
        'prompt_text',
        'prompt_token_ids',
        'service_tier',
        'system_fingerprint',
        'usage',
      ].sort(),
    );
    const choice = (json.choices as Record<string, Record<string, unknown>>[])[0]!;
    expect(keys(choice)).toEqual(['finish_reason', 'index', 'logprobs', 'message', 'routed_experts', 'stop_reason', 'token_ids']);
    expect(keys(choice.message)).toEqual(['annotations', 'audio', 'content', 'function_call', 'reasoning', 'refusal', 'role']);
    expect(keys((choice.logprobs!.content as unknown[])[0])).toEqual(['bytes', 'logprob', 'token', 'top_logprobs']);
    expect(keys(json.usage)).toEqual([
      'completion_tokens',
      'completion_tokens_details',
      'prompt_tokens',
      'prompt_tokens_details',
      'total_tokens',
    ]);
  });

  it('accepts and ignores a field it does not know (OpenAIBaseModel extra="allow", entrypoints/serve/engine/protocol.py)', async () => {
    expect((await post('/v1/chat/completions', chatBody({ differad_no_such_field: true }))).status).toBe(200);
  });

  it("refuses a mistyped field with FastAPI's validation error naming body.<field> (exception_handling/handlers/validation.py)", async () => {
    const { status, json } = await post('/v1/chat/completions', chatBody({ max_tokens: 'many' }));
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ type: 'Bad Request', param: 'body.max_tokens', code: 400 });
    expect(json.error.message).toMatch(/^1 validation error:\n/);
  });

  it('refuses a body not sent as application/json (serve/utils/api_utils.py validate_json_request)', async () => {
    const { status, json } = await post('/v1/chat/completions', JSON.stringify(chatBody()), 'text/plain');
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ type: 'Bad Request', param: null, code: 400 });
    expect(json.error.message).toContain("Unsupported Media Type: Only 'application/json' is allowed");
  });

  it('answers an unknown model with NotFoundError on `model`, naming the served aliases (entrypoints/serve/engine/serving.py)', async () => {
    const { status, json } = await post('/v1/chat/completions', chatBody({ model: 'differad-no-such-model' }));
    expect(status).toBe(404);
    expect(json.error).toEqual({
      message: `The model \`differad-no-such-model\` does not exist. Valid aliases: ${ctx.server().model}.`,
      type: 'NotFoundError',
      param: 'model',
      code: 404,
    });
  });

  it('pauses and resumes, and counts a paused scheduler as sleeping (entrypoints/rl/online/api_router.py, v1/engine/core.py is_sleeping)', async () => {
    expect(await post('/pause?mode=later')).toMatchObject({ status: 400, json: { error: { type: 'Bad Request', param: 'query.mode' } } });
    expect(await post('/pause?mode=wait')).toMatchObject({ status: 200, json: { status: 'paused' } });
    expect(await state()).toEqual({ paused: true, sleeping: true });
    expect(await post('/resume')).toMatchObject({ status: 200, json: { status: 'resumed' } });
    expect(await state()).toEqual({ paused: false, sleeping: false });
    expect((await post('/reset_prefix_cache')).json).toEqual({ success: true });
  });

  it("keep pause (an in-flight update): a request sent while paused is held, then answered after /resume; differad's servers name the versions it decoded with (entrypoints/rl/online/api_router.py, v1/engine/core.py pause_scheduler)", async () => {
    expect(await post('/pause?mode=keep')).toMatchObject({ status: 200, json: { status: 'paused' } });
    let answered = false;
    const held = fetch(`${ctx.server().url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody()),
    }).then((r) => {
      answered = true;
      return r;
    });
    // A request queued while paused is not scheduled (PAUSED_ALL): health and state answer, the request does not.
    expect(await state()).toEqual({ paused: true, sleeping: true });
    expect((await get('/health')).status).toBe(200);
    expect(answered).toBe(false);
    expect(await post('/resume')).toMatchObject({ status: 200, json: { status: 'resumed' } });
    const reply = await held;
    expect(reply.status).toBe(200);
    await reply.text();
    // vLLM's chat route reports no weight version (spans only on --enable-scale-out's /inference/v1/generate); differad's servers send x-weight-version and, across an update, x-weight-versions.
    const versions = reply.headers.get('x-weight-versions');
    if (versions !== null) expect(versions.split(',').length).toBeGreaterThan(1);
  });

  it('sleeps and wakes tag by tag (entrypoints/serve/dev/sleep/api_router.py, v1/executor/abstract.py)', async () => {
    expect(await post('/sleep?level=3')).toMatchObject({ status: 400, json: { error: { type: 'Bad Request', param: 'query.level' } } });
    expect(await post('/sleep?level=0&mode=wait')).toMatchObject({ status: 200, json: { status: 'sleeping', level: 0 } });
    expect(await state()).toEqual({ paused: true, sleeping: true });
    expect(await post('/wake_up')).toMatchObject({ status: 200, json: { status: 'awake', tags: null } });
    expect(await state()).toEqual({ paused: false, sleeping: false });
    expect(await post('/sleep?level=1&mode=wait')).toMatchObject({ status: 200, json: { status: 'sleeping', level: 1 } });
    expect((await post('/wake_up?tags=scheduling')).json).toEqual({ status: 'sleeping', tags: ['scheduling'] });
    expect((await post('/wake_up?tags=weights')).json).toEqual({ status: 'sleeping', tags: ['weights'] });
    expect(await state()).toEqual({ paused: true, sleeping: true });
    expect((await post('/wake_up?tags=kv_cache')).json).toEqual({ status: 'awake', tags: ['kv_cache'] });
    expect(await state()).toEqual({ paused: false, sleeping: false });
    expect((await ctx.fleet().complete(ctx.request())).completions).toHaveLength(1);
  });

  it('labels the served weights with update_weight_version, with no weight-transfer engine, and /weight_info returns the label (entrypoints/rl/online/api_router.py, v1/engine/core.py set_weight_version)', async () => {
    const before = (await get('/weight_info')).json.weight_version;
    expect(typeof before).toBe('string');
    expect(await post('/update_weight_version', { new_version: 'contract-7' })).toMatchObject({
      status: 200,
      json: { success: true, new_version: 'contract-7' },
    });
    expect((await get('/weight_info')).json).toEqual({ weight_version: 'contract-7' });
    for (const body of [{}, { new_version: 7 }])
      expect(await post('/update_weight_version', body)).toMatchObject({
        status: 400,
        json: { error: { type: 'Bad Request', param: 'body.new_version', code: 400 } },
      });
    expect((await get('/weight_info')).json).toEqual({ weight_version: 'contract-7' });
    await post('/update_weight_version', { new_version: before });
  });

  it('refuses weight-update calls without a weight-transfer engine (500) and collective_rpc without a method (400)', async () => {
    for (const path of ['/start_weight_update', '/finish_weight_update']) {
      const { status, json } = await post(path);
      expect(status).toBe(500);
      expect(json.error).toMatchObject({ type: 'InternalServerError', code: 500 });
      expect(json.error.message).toContain('Weight transfer not configured');
    }
    expect(await post('/collective_rpc', {})).toMatchObject({
      status: 400,
      json: { error: { message: "Missing 'method' in request body", code: 400 } },
    });
  });

  const weightsPath = () => ctx.server().weightsPath;
  it("fails a reload from a missing folder with the engine's 500 naming it; a good reload before any request makes it whole (docs/vllm-protocol.md §4.2)", async () => {
    await post('/pause?mode=wait');
    try {
      const failed = await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: '/nonexistent/differad-weights' } });
      expect(failed.status).toBe(500);
      expect(failed.json.error).toMatchObject({ type: 'InternalServerError', code: 500 });
      expect(failed.json.error.message).toMatch(/^Call to collective_rpc method failed: .*\/nonexistent\/differad-weights/s);
      expect(await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: weightsPath() } })).toMatchObject({
        status: 200,
        json: { results: [null] },
      });
    } finally {
      await post('/resume');
    }
    expect((await ctx.fleet().complete(ctx.request())).completions).toHaveLength(1);
    expect((await fetch(`${ctx.server().url}/health`)).status).toBe(200);
  });

  // Last: it leaves the engine dead. vLLM 0.32.0 moves every layer to the meta device before loading
  // (model_loader/reload/layerwise.py) with no try/finally (reload/inplace.py). Registered only where the
  // server is the suite's own: the live suite's vLLM is shared by every live file.
  if (!ctx.killable) return;
  it('after a failed reload, the next request kills the engine: a 500, then /health 503 for good', async () => {
    expect(
      (await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: '/nonexistent/differad-weights' } })).status,
    ).toBe(500);
    const broken = await post('/v1/chat/completions', chatBody());
    expect(broken.status).toBe(500);
    expect(broken.json.error.message).toContain('not on the expected device meta');
    expect((await fetch(`${ctx.server().url}/health`)).status).toBe(503);
  });
}
