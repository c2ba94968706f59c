import { describe, expect, it } from 'vitest';
import { compactLogprobEntries, parseChatResponse, parseChatResponseText, toFieldPath } from './chat-response.js';

const choice = (index: number, ids = [1, 2]) => ({
  index,
  message: { role: 'assistant', content: `text ${index}` },
  finish_reason: 'stop',
  logprobs: { content: ids.map((id) => ({ token: `t${id}`, logprob: -0.5 })) },
  token_ids: ids,
});
const body = (choices: unknown[]) => ({
  choices,
  prompt_token_ids: [9, 9],
  usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
});
const expectAll = { n: 2, logprobs: true, tokenIds: true };

describe('parseChatResponse', () => {
  it('orders choices by index and keeps ids and log-probs', () => {
    const parsed = parseChatResponse(body([choice(1, [3]), choice(0)]), expectAll);
    expect(parsed).toMatchObject({ kind: 'ok', promptTokenIds: [9, 9], usage: { promptTokens: 2, completionTokens: 4 } });
    if (parsed.kind !== 'ok') return;
    expect(parsed.choices.map((c) => [c.index, c.text, c.tokenIds, c.logprobs])).toEqual([
      [0, 'text 0', [1, 2], [-0.5, -0.5]],
      [1, 'text 1', [3], [-0.5]],
    ]);
  });

  it.each([
    ['choices[1].message.content', body([choice(0), { ...choice(1), message: { content: null } }])],
    ['choices[0].token_ids', body([{ ...choice(0), token_ids: null }, choice(1)])],
    ['choices[0].logprobs', body([{ ...choice(0), logprobs: null }, choice(1)])],
    ['choices[1].logprobs.content', body([choice(0), { ...choice(1), token_ids: [1] }])],
    ['choices[1].index', body([choice(0), choice(0)])],
    ['choices', body([choice(0)])],
    ['prompt_token_ids', { ...body([choice(0), choice(1)]), prompt_token_ids: undefined }],
    ['choices[0].finish_reason', body([{ ...choice(0), finish_reason: 7 }, choice(1)])],
    ['(body)', 'not an object'],
  ])('names %s when it is wrong', (field, json) => {
    expect(parseChatResponse(json, expectAll)).toMatchObject({ kind: 'invalid', field });
  });

  it('accepts missing ids and log-probs when they were not requested', () => {
    const bare = { choices: [{ index: 0, message: { content: 'x' }, finish_reason: 'length' }] };
    expect(parseChatResponse(bare, { n: 1, logprobs: false, tokenIds: false })).toMatchObject({
      kind: 'ok',
      promptTokenIds: null,
      usage: null,
    });
  });

  it.each([
    ['a negative token id', body([{ ...choice(0), token_ids: [1, -2] }, choice(1)]), 'choices[0].token_ids[1]'],
    ['a fractional prompt token id', { ...body([choice(0), choice(1)]), prompt_token_ids: [9, 9.5] }, 'prompt_token_ids[1]'],
    [
      'a log-prob that is a string',
      body([
        choice(0),
        {
          ...choice(1),
          logprobs: {
            content: [
              { token: 't', logprob: '-1' },
              { token: 't', logprob: -1 },
            ],
          },
        },
      ]),
      'choices[1].logprobs.content[0].logprob',
    ],
    ['an empty finish reason', body([choice(0), { ...choice(1), finish_reason: '' }]), 'choices[1].finish_reason'],
    ['usage without completion_tokens', { ...body([choice(0), choice(1)]), usage: { prompt_tokens: 2 } }, 'usage.completion_tokens'],
  ])('refuses %s like the schema does, naming the field', (_, json, field) => {
    expect(parseChatResponse(json, expectAll)).toMatchObject({ kind: 'invalid', field });
  });

  it('formats zod paths as field names', () => {
    expect(toFieldPath(['choices', 3, 'logprobs', 'content', 0, 'logprob'])).toBe('choices[3].logprobs.content[0].logprob');
  });
});

/** A body as vLLM writes it (compact JSON, entry fields in vLLM's order), with these tokens in choice 0 and plain ones in choice 1. */
function vllmText(tokens: readonly { token: string; logprob: number; bytes?: number[] | null }[]): string {
  const entry = (t: { token: string; logprob: number; bytes?: number[] | null }) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: t.bytes === undefined ? [...Buffer.from(t.token)] : t.bytes,
    top_logprobs: [],
  });
  const choice = (index: number, list: typeof tokens) => ({
    index,
    message: { role: 'assistant', content: list.map((t) => t.token).join(''), refusal: null },
    logprobs: { content: list.map(entry) },
    finish_reason: 'stop',
    stop_reason: null,
    token_ids: list.map((_, i) => 100 + i),
  });
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [choice(0, tokens), choice(1, [{ token: 'ok', logprob: -0.25 }])],
    usage: { prompt_tokens: 2, total_tokens: 2 + tokens.length + 1, completion_tokens: tokens.length + 1 },
    prompt_token_ids: [9, 9],
  });
}

describe('parseChatResponseText', () => {
  const wholeBody = (text: string) => parseChatResponse(JSON.parse(text) as unknown, expectAll);

  it("reads every entry of vLLM's form as its number and gives what the whole body gives", () => {
    const tricky = [
      { token: 'The', logprob: -0.111 },
      { token: ' "quoted"', logprob: -0.222 },
      { token: 'back\\slash\\', logprob: -0.333 },
      { token: 'é\u0001\n\t', logprob: -0.444 },
      { token: '{"token":"x","logprob":1,"bytes":null,"top_logprobs":[]}', logprob: -0.5 },
      { token: '\ufffd', logprob: -1.5, bytes: null },
      { token: '🙂', logprob: 0 },
    ];
    // Python's float spellings where JSON.stringify writes others.
    const text = vllmText(tricky).replace('-0.111', '-1.5e-05').replace('-0.222', '-9999.0').replace('-0.333', '-0.0');
    const lean = compactLogprobEntries(text);
    expect(lean.entries).toBe(tricky.length + 1);
    const parsed = parseChatResponseText(text, expectAll);
    expect(parsed).toEqual(wholeBody(text));
    expect(parsed).toMatchObject({ kind: 'ok' });
    if (parsed?.kind !== 'ok') return;
    expect(parsed.choices[0]!.logprobs).toEqual([-1.5e-5, -9999, -0, -0.444, -0.5, -1.5, 0]);
    expect(parsed.choices[0]!.text).toBe(tricky.map((t) => t.token).join(''));
  });

  it('parses the whole body when entries are of another form, with the same result', () => {
    const withTop = vllmText([{ token: 'a', logprob: -1 }]).replace(
      '"top_logprobs":[]',
      '"top_logprobs":[{"token":"b","logprob":-2,"bytes":[98]}]',
    );
    const spaced = JSON.stringify(JSON.parse(vllmText([{ token: 'a', logprob: -1 }])), null, 1);
    const reordered = vllmText([{ token: 'a', logprob: -1 }]).replace('{"token":"a","logprob":-1,', '{"logprob":-1,"token":"a",');
    for (const text of [withTop, spaced, reordered]) {
      expect(parseChatResponseText(text, expectAll)).toEqual(wholeBody(text));
      expect(parseChatResponseText(text, expectAll)).toMatchObject({ kind: 'ok' });
    }
    expect(compactLogprobEntries(spaced).entries).toBe(0);
  });

  it.each([
    [
      'a bare number among the entries',
      (t: string) => t.replace('{"token":"ok","logprob":-0.25,"bytes":[111,107],"top_logprobs":[]}', '-0.25'),
      'choices[1].logprobs.content[0]',
    ],
    ['an entry without its token', (t: string) => t.replace('{"token":"ok",', '{'), 'choices[1].logprobs.content[0].token'],
    ['a string log-prob', (t: string) => t.replace('"logprob":-0.25', '"logprob":"-0.25"'), 'choices[1].logprobs.content[0].logprob'],
    ['a missing choice', (t: string) => t.replace(/,\{"index":1.*\}\],"usage"/, '],"usage"'), 'choices'],
  ])('refuses %s as the whole body does, naming the same field', (_, edit, field) => {
    const text = edit(vllmText([{ token: 'a', logprob: -1 }]));
    expect(text).not.toBe(vllmText([{ token: 'a', logprob: -1 }]));
    const parsed = parseChatResponseText(text, expectAll);
    expect(parsed).toEqual(wholeBody(text));
    expect(parsed).toMatchObject({ kind: 'invalid', field });
  });

  it('is null for a body that is not JSON, and for one that breaks off inside an entry', () => {
    expect(parseChatResponseText('<html>Bad Gateway</html>', expectAll)).toBeNull();
    const text = vllmText([{ token: 'a', logprob: -1 }]);
    expect(parseChatResponseText(text.slice(0, text.indexOf('"top_logprobs"') + 20), expectAll)).toBeNull();
  });
});
