import { describe, expect, it } from 'vitest';
import { type CompletionRequest, serializeChatBody, toChatRequestBody } from './chat-request.js';

describe('toChatRequestBody', () => {
  it('omits the system message when there is none and defaults logprobs and token ids to true', () => {
    const body = toChatRequestBody('m', {
      referenceImage: 'data:image/png;base64,AAA',
      targetImage: 'data:image/png;base64,BBB',
      prompt: 'p',
      n: 8,
      seed: 3,
      sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 256 },
    });
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0]!.role).toBe('user');
    expect(body).toMatchObject({
      n: 8,
      temperature: 0.9,
      top_p: 1,
      top_k: -1,
      max_tokens: 256,
      seed: 3,
      logprobs: true,
      return_token_ids: true,
    });
  });
});

describe('serializeChatBody', () => {
  const request = (over: Partial<CompletionRequest> = {}): CompletionRequest => ({
    referenceImage: `data:image/png;base64,${'A'.repeat(5000)}`,
    targetImage: `data:image/png;base64,${'B/+'.repeat(3000)}`,
    prompt: 'Compare the "target" with the reference.',
    n: 8,
    seed: 3,
    sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 256 },
    ...over,
  });
  const same = (r: CompletionRequest) => {
    const body = toChatRequestBody('m', r);
    expect(serializeChatBody(body).bytes().toString('utf8')).toBe(JSON.stringify(body));
  };

  it('sends exactly the bytes JSON.stringify makes, the first time and when the images come again', () => {
    same(request());
    same(request());
    same(request({ system: 'You inspect PCBs.\n"Answer" in <answer>…</answer> ✓' }));
    same(request({ targetImage: 'data:image/png;base64,Cw==' }));
  });

  it('keeps texts that look like its placeholder, control characters and non-ASCII intact', () => {
    same(request({ prompt: '\u0000differad-image- is text here, and so is \u2028 and 日本語 and \ud800' }));
    same(request({ system: '\u0000differad-image-', prompt: '""\\' }));
  });

  it('serializes a pair whose two images are the same URL', () => {
    same(request({ targetImage: request().referenceImage }));
  });
});
