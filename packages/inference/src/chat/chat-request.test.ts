import { describe, expect, it } from 'vitest';
import { toChatRequestBody } from './chat-request.js';

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
