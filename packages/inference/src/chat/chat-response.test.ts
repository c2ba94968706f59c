import { describe, expect, it } from 'vitest';
import { parseChatResponse, toFieldPath } from './chat-response.js';

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
