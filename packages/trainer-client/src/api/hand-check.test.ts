import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isHealthResponse, isOptimStepResponse, isSendWeightsResponse } from './control-check.js';
import { HealthResponseSchema, OptimStepResponseSchema, SendWeightsResponseSchema } from './control.js';
import { ForwardBackwardRequestSchema, ForwardBackwardResponseSchema } from './forward-backward.js';
import { isForwardBackwardRequest, isForwardBackwardResponse } from './forward-backward-check.js';
import { isBase64 } from './hand-check.js';
import { completionTokenCount, completionTokens, packTokens } from './packed-tokens.js';

/*
 * The hand checks must give every input the schema's verdict: each table
 * below sends the same inputs through both. The inputs are a valid body and
 * that body changed at every field: removed, undefined, every kind of JSON
 * value, NaN and ±Infinity, each limit of the schemas and a step past it,
 * strings and arrays of every limiting length, an unknown key, a null prototype.
 */

type Path = readonly (string | number)[];
type Mutation = { readonly label: string; readonly value: unknown };

const LONG_TEXT = 'x'.repeat(1_000_000);
// biome-ignore format: a table
const NUMBERS = [
  -1, -0, 0, 0.5, 1, 2, 1e-3, 0.000_999_9, 9.999, 10, 10.000_01, 16, 17, 100, 100.000_01, 1023, 1024, 1025, 4096, 4097, 65_535, 65_536,
  65_537, 2_147_483_647, 2_147_483_648, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e300, -1e300, Number.MIN_VALUE, Number.NaN,
  Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
];
// biome-ignore format: a table
const STRINGS = [
  '', 'a', 'r1', '-r', 'r 1', '.r', 'R_1.x-y', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(256), 'x'.repeat(257), LONG_TEXT, `${LONG_TEXT}x`,
  'f'.repeat(64), 'F'.repeat(64), 'f'.repeat(63), 'AAAA', 'AAA', 'AA==', 'A===', 'AA AA', 'text', 'image', 'system', 'user', 'assistant',
  'tool', 'image/png', 'image/jpeg', 'image/webp', 'image/gif', 'sequence', 'token', 'error', 'ignore', 'ok', 'starting', 'v1', 'v2',
  'disk', 'nccl', 'lora', 'ftp',
];
const OTHERS = [true, false, null, [], [0], ['a'], {}, { type: 'text', text: 't' }];

function mutationsOf(value: unknown): Mutation[] {
  const out: Mutation[] = [
    ...NUMBERS.map((n) => ({ label: `number ${Object.is(n, -0) ? '-0' : String(n)}`, value: n })),
    ...STRINGS.map((s) => ({ label: `string of ${s.length} "${s.slice(0, 12)}"`, value: s })),
    ...OTHERS.map((o) => ({ label: JSON.stringify(o), value: o })),
    { label: 'undefined', value: undefined },
  ];
  if (Array.isArray(value) && value.length > 0) {
    out.push(
      { label: 'without its last element', value: value.slice(0, -1) },
      { label: 'its first element again', value: [...value, value[0]] },
      ...[16, 17, 64, 65, 1024, 1025, 4096, 4097].map((n) => ({
        label: `${n} elements`,
        value: Array.from({ length: n }, () => value[0]),
      })),
    );
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    out.push(
      { label: 'an unknown key', value: { ...value, extra: 1 } },
      { label: 'an unknown key set to undefined', value: { ...value, extra: undefined } },
      { label: 'a null prototype', value: Object.assign(Object.create(null) as object, value) },
    );
  }
  return out;
}

/** Every path of `value` (objects and arrays included), with the value there. */
function pathsOf(value: unknown, path: Path = []): [Path, unknown][] {
  const own: [Path, unknown][] = [[path, value]];
  if (typeof value !== 'object' || value === null) return own;
  return [...own, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...path, Array.isArray(value) ? Number(k) : k]))];
}

/** `root` with the value at `path` replaced (or removed), sharing what it does not change. */
function withValue(root: unknown, path: Path, value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [string | number, ...Path];
  if (Array.isArray(root)) {
    const copy = [...root];
    copy[key as number] = withValue(root[key as number], rest, value, remove);
    return copy;
  }
  const copy = { ...(root as Record<string, unknown>) };
  if (remove && rest.length === 0) delete copy[key];
  else copy[key] = withValue(copy[key], rest, value, remove);
  return copy;
}

interface Verdicts {
  readonly disagreements: string[];
  readonly accepted: number;
  readonly refused: number;
}

/** Runs a valid body and every change of it through the hand check and the schema. */
function compare(body: unknown, check: (v: unknown) => boolean, schema: z.ZodType): Verdicts {
  const disagreements: string[] = [];
  let accepted = 0;
  let refused = 0;
  const judge = (label: string, input: unknown) => {
    const byHand = check(input);
    if (byHand !== schema.safeParse(input).success) disagreements.push(`${label}: hand check ${byHand ? 'accepts' : 'refuses'}`);
    if (byHand) accepted += 1;
    else refused += 1;
  };
  judge('the valid body', body);
  for (const [path, value] of pathsOf(body)) {
    const at = path.join('.') || '(body)';
    if (path.length > 0) judge(`${at} removed`, withValue(body, path, undefined, true));
    for (const m of mutationsOf(value)) judge(`${at} = ${m.label}`, withValue(body, path, m.value));
  }
  return { disagreements, accepted, refused };
}

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const SHA = 'ab'.repeat(32);

const REQUEST = {
  run: 'run-1',
  step: 3,
  micro_batch: 1,
  micro_batches: 2,
  loss: {
    clip_low: 0.2,
    clip_high: 0.28,
    beta: 0.01,
    normalization: 'token',
    mask_truncated: true,
    temperature: 1,
    step_sequences: 4,
    step_tokens: 9,
  },
  prompt_mismatch: 'error',
  groups: [
    {
      pair_id: 'pair-1',
      images: [{ sha256: SHA, data: PNG, media_type: 'image/png' }, { sha256: SHA }],
      messages: [
        { role: 'system', content: 'find the box' },
        {
          role: 'user',
          content: [
            { type: 'image', image: 1 },
            { type: 'text', text: 'where?' },
          ],
        },
      ],
      prompt_token_ids: [1, 2, 3],
      completions: [
        {
          text: 'a',
          token_ids: [5, 0, 4_294_967_295],
          sampling_logprobs: [-0.5, -0, -1e-300],
          advantage: 0.5,
          weight: 1,
          truncated: false,
        },
        { text: '', token_ids: [7], sampling_logprobs: [-2], advantage: -0.5, weight: 0, truncated: true },
      ],
    },
  ],
};

/** REQUEST with every completion's token ids and log-probs packed. */
const PACKED_REQUEST = {
  ...REQUEST,
  groups: REQUEST.groups.map((g) => ({
    ...g,
    completions: g.completions.map(({ token_ids, sampling_logprobs, ...rest }) => ({
      ...rest,
      packed: packTokens(token_ids, sampling_logprobs),
    })),
  })),
};

const FB_RESPONSE = {
  run: 'run-1',
  step: 3,
  micro_batch: 1,
  duplicate: false,
  loss: 0.25,
  clip_fraction: 0.5,
  kl: null,
  sequences: 2,
  tokens: 4,
  masked: { truncated: 1, unscorable: 0 },
  prompt_tokens_match: true,
};

const OPTIM_STEP_RESPONSE = {
  run: 'run-1',
  step: 3,
  applied: true,
  duplicate: false,
  grad_norm: 1.5,
  weight_version: 4,
  micro_batches: 2,
  sequences: 2,
};

const HEALTH = {
  status: 'ok',
  api_version: 'v1',
  backend: 'cpu',
  model: 'gaussian',
  world_size: 1,
  run: 'run-1',
  step: 3,
  weight_version: 4,
  pending: { step: 4, received: 1, expected: 2 },
};

const SEND_WEIGHTS_RESPONSE = { backend: 'disk', version: 4, path: '/w/4.json', bytes: 120 };

describe('hand checks of the hot trainer bodies', () => {
  it.each([
    ['forward_backward request', REQUEST, isForwardBackwardRequest, ForwardBackwardRequestSchema],
    ['forward_backward request, optional fields absent', minimalRequest(), isForwardBackwardRequest, ForwardBackwardRequestSchema],
    ['forward_backward request, completions packed', PACKED_REQUEST, isForwardBackwardRequest, ForwardBackwardRequestSchema],
    ['forward_backward reply', FB_RESPONSE, isForwardBackwardResponse, ForwardBackwardResponseSchema],
    ['optim_step reply', OPTIM_STEP_RESPONSE, isOptimStepResponse, OptimStepResponseSchema],
    [
      'optim_step reply of a duplicate',
      { ...OPTIM_STEP_RESPONSE, applied: false, duplicate: true, grad_norm: null },
      isOptimStepResponse,
      OptimStepResponseSchema,
    ],
    ['health reply', HEALTH, isHealthResponse, HealthResponseSchema],
    ['health reply before a run', { ...HEALTH, run: null, step: null, pending: null }, isHealthResponse, HealthResponseSchema],
    ['health reply with features', { ...HEALTH, features: ['packed_completions'] }, isHealthResponse, HealthResponseSchema],
    ['send_weights reply', SEND_WEIGHTS_RESPONSE, isSendWeightsResponse, SendWeightsResponseSchema],
    [
      'send_weights reply of nccl',
      { ...SEND_WEIGHTS_RESPONSE, backend: 'nccl', path: null, bytes: null },
      isSendWeightsResponse,
      SendWeightsResponseSchema,
    ],
  ] as const)('%s: the same verdict as the schema for the body changed at every field', (_, body, check, schema) => {
    const verdicts = compare(body, check, schema);
    expect(verdicts.disagreements).toEqual([]);
    expect(check(body)).toBe(true);
    expect(verdicts.refused).toBeGreaterThan(verdicts.accepted);
  });

  it('refuses what the schema refuses in a forward_backward request: NaN, ±Infinity, unknown keys, empty and unequal arrays', () => {
    const cases: [string, unknown][] = [
      ['a NaN log-prob', withValue(REQUEST, ['groups', 0, 'completions', 0, 'sampling_logprobs', 1], Number.NaN)],
      ['an infinite advantage', withValue(REQUEST, ['groups', 0, 'completions', 1, 'advantage'], Number.NEGATIVE_INFINITY)],
      ['an infinite weight', withValue(REQUEST, ['groups', 0, 'completions', 1, 'weight'], Number.POSITIVE_INFINITY)],
      ['an unknown key in a completion', withValue(REQUEST, ['groups', 0, 'completions', 0, 'logprobs'], [-1])],
      ['an unknown key in loss', withValue(REQUEST, ['loss', 'epsilon'], 0.2)],
      ['no completions', withValue(REQUEST, ['groups', 0, 'completions'], [])],
      [
        'no token ids',
        withValue(
          withValue(REQUEST, ['groups', 0, 'completions', 1, 'token_ids'], []),
          ['groups', 0, 'completions', 1, 'sampling_logprobs'],
          [],
        ),
      ],
      ['one log-prob short', withValue(REQUEST, ['groups', 0, 'completions', 0, 'sampling_logprobs'], [-0.5, -0])],
      ['a fractional token id', withValue(REQUEST, ['groups', 0, 'completions', 0, 'token_ids', 0], 1.5)],
      ['an image part past the images', withValue(REQUEST, ['groups', 0, 'messages', 1, 'content', 0, 'image'], 2)],
      ['micro_batch not below micro_batches', withValue(REQUEST, ['micro_batch'], 2)],
      ['a temperature below 0.001', withValue(REQUEST, ['loss', 'temperature'], 1e-4)],
      ['image bytes that are not base64', withValue(REQUEST, ['groups', 0, 'images', 0, 'data'], `${PNG.slice(0, -4)} AA=`)],
    ];
    for (const [label, input] of cases) {
      expect([label, isForwardBackwardRequest(input)]).toEqual([label, false]);
      expect([label, ForwardBackwardRequestSchema.safeParse(input).success]).toEqual([label, false]);
    }
  });

  it('leave objects with another prototype to the schema, which copies what JSON.stringify would leave out', () => {
    const inherited = Object.assign(Object.create({ run: 'run-1' }) as object, { ...REQUEST, run: undefined });
    delete (inherited as { run?: string }).run;
    expect(isForwardBackwardRequest(inherited)).toBe(false);
    expect(ForwardBackwardRequestSchema.parse(inherited)).toEqual(REQUEST);
  });

  it('agree with z.base64() on every string of up to 4 characters from an alphabet of its edge cases', () => {
    const alphabet = ['A', 'z', '9', '+', '/', '=', '-', '_', ' ', '\n', '\t', '\v', '\u00a0', 'é'];
    const schema = z.base64();
    let strings = [''];
    const disagreements: string[] = [];
    for (let length = 0; length <= 4; length++) {
      for (const s of strings) if (isBase64(s) !== schema.safeParse(s).success) disagreements.push(JSON.stringify(s));
      strings = strings.flatMap((s) => alphabet.map((c) => s + c));
    }
    expect(disagreements).toEqual([]);
  });

  it('agree with z.base64() on longer strings with padding and whitespace anywhere', () => {
    const schema = z.base64();
    const inputs = [
      PNG,
      `${PNG} `,
      ` ${PNG.slice(1)}`,
      `${PNG.slice(0, 8)}\n${PNG.slice(9)}`,
      `${PNG.slice(0, -2)}= =`.slice(0, PNG.length),
    ];
    for (let cut = 0; cut < 8; cut++) inputs.push(PNG.slice(0, PNG.length - cut), `${PNG.slice(0, PNG.length - cut - 1)}\t`);
    for (const s of ['AAAAAA==', 'AAAAAAA=', 'AAAAA===', 'AAAA\r\n==', 'AAAA AA=', 'AA=AAAAA', '=AAAAAAA', 'AAAAAAAA']) inputs.push(s);
    for (const s of inputs) expect([s, isBase64(s)]).toEqual([s, schema.safeParse(s).success]);
  });
});

/** REQUEST without its optional fields. */
function minimalRequest(): unknown {
  const [group] = REQUEST.groups;
  return {
    ...{ run: REQUEST.run, step: REQUEST.step, micro_batch: REQUEST.micro_batch, micro_batches: REQUEST.micro_batches },
    loss: { clip_low: 0.2, clip_high: 0.28, beta: 0.01, normalization: 'sequence', mask_truncated: false, temperature: 1e-3 },
    groups: [
      { images: [{ sha256: SHA }, { sha256: SHA }], messages: group!.messages, prompt_token_ids: null, completions: group!.completions },
    ],
  };
}

describe('packed completions', () => {
  const packedAt = (k: number) => PACKED_REQUEST.groups[0]!.completions[k]!;
  const issues = (input: unknown) =>
    (ForwardBackwardRequestSchema.safeParse(input).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
  const at = ['groups', 0, 'completions', 0] as const;

  it('carry the same token ids and log-probs bit for bit (-0, a tiny log-prob, the largest uint32)', () => {
    const unpacked = completionTokens(packedAt(0));
    expect(unpacked.token_ids).toEqual([5, 0, 4_294_967_295]);
    expect(unpacked.sampling_logprobs.map((x) => Object.is(x, -0))).toEqual([false, true, false]);
    expect(unpacked.sampling_logprobs).toEqual([-0.5, -0, -1e-300]);
    expect(completionTokenCount(packedAt(0))).toBe(3);
    expect(completionTokenCount(REQUEST.groups[0]!.completions[0]!)).toBe(3);
    const lps = [-Math.PI, -1 / 3, -0.1 + -0.2, -5e-324, -1.7976931348623157e308];
    expect(completionTokens({ packed: packTokens([1, 2, 3, 4, 5], lps) }).sampling_logprobs).toEqual(lps);
    expect(isForwardBackwardRequest(PACKED_REQUEST)).toBe(true);
  });

  it('refuse a token id that does not fit 32 bits and counts that differ when packing', () => {
    expect(() => packTokens([2 ** 32], [-1])).toThrow(RangeError);
    expect(() => packTokens([1, 2], [-1])).toThrow(/2 token ids and 1 log-probs/);
  });

  it('are refused by name when malformed, as by the schema and the hand check alike', () => {
    const bytes = (n: number) => Buffer.alloc(n).toString('base64');
    const nan = Buffer.alloc(16);
    nan.writeDoubleLE(Number.NaN, 8);
    const cases: [string, unknown, string][] = [
      [
        'both forms',
        withValue(PACKED_REQUEST, [...at, 'token_ids'], [5, 0, 1]),
        'groups.0.completions.0.packed: give token_ids and sampling_logprobs, or packed, not both',
      ],
      ['neither form', withValue(REQUEST, [...at, 'token_ids'], undefined, true), 'groups.0.completions.0.token_ids: required (or packed)'],
      [
        'log-probs only',
        withValue(REQUEST, [...at, 'sampling_logprobs'], undefined, true),
        'groups.0.completions.0.sampling_logprobs: required (or packed)',
      ],
      [
        'no token bytes',
        withValue(PACKED_REQUEST, [...at, 'packed'], { token_ids: '', sampling_logprobs: '' }),
        'groups.0.completions.0.packed.token_ids: needs 4 bytes (a little-endian uint32) per token id, at least one: got 0 bytes',
      ],
      [
        'token bytes not a multiple of 4',
        withValue(PACKED_REQUEST, [...at, 'packed'], { token_ids: bytes(6), sampling_logprobs: bytes(12) }),
        'groups.0.completions.0.packed.token_ids: needs 4 bytes (a little-endian uint32) per token id, at least one: got 6 bytes',
      ],
      [
        'one log-prob short',
        withValue(PACKED_REQUEST, [...at, 'packed'], { token_ids: bytes(12), sampling_logprobs: bytes(16) }),
        'groups.0.completions.0.packed.sampling_logprobs: needs 8 bytes (a little-endian float64) per token id: got 16 bytes for 3 token ids',
      ],
      [
        'a NaN log-prob',
        withValue(PACKED_REQUEST, [...at, 'packed'], { token_ids: bytes(8), sampling_logprobs: nan.toString('base64') }),
        'groups.0.completions.0.packed.sampling_logprobs: log-prob 1 is not finite',
      ],
      [
        'not base64',
        withValue(PACKED_REQUEST, [...at, 'packed', 'token_ids'], 'AA AA'),
        'groups.0.completions.0.packed.token_ids: Invalid base64-encoded string',
      ],
      [
        'an unknown key in packed',
        withValue(PACKED_REQUEST, [...at, 'packed', 'dtype'], 'f64'),
        'groups.0.completions.0.packed: Unrecognized key: "dtype"',
      ],
    ];
    for (const [label, input, issue] of cases) {
      expect([label, isForwardBackwardRequest(input)]).toEqual([label, false]);
      expect([label, issues(input)]).toEqual([label, [issue]]);
    }
  });
});
