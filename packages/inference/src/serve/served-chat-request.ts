import { z } from 'zod';

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string() });
const ImagePartSchema = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    // The fake fetches nothing: only inline images, as differad sends them.
    url: z.string().regex(/^data:image\/[a-z0-9.+-]+;base64,/i, 'only inline data:image/...;base64 URLs are accepted'),
  }),
});
const MessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPartSchema, ImagePartSchema])).min(1)]),
});

/**
 * The chat request as differad's own servers (the fake vLLM, the CPU policy) validate it, following vLLM's
 * ChatCompletionRequest: unknown fields are ignored, known ones type-checked,
 * absent sampling fields fall back to defaults.
 */
export const ServedChatRequestSchema = z
  .object({
    model: z.string().nullish(),
    messages: z.array(MessageSchema).min(1),
    n: z.number().int().min(1).max(256).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    top_k: z.number().int().min(-1).nullish(),
    max_tokens: z.number().int().min(1).nullish(),
    max_completion_tokens: z.number().int().min(1).nullish(),
    seed: z
      .number()
      .int()
      .min(-(2 ** 63))
      .max(2 ** 63)
      .nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    return_token_ids: z.boolean().nullish(),
    stream: z.boolean().nullish(),
  })
  .refine((r) => !(r.top_logprobs && !r.logprobs), {
    message: 'when using `top_logprobs`, `logprobs` must be set to true',
    path: ['top_logprobs'],
  })
  .refine((r) => r.stream !== true, { message: 'streaming is not supported', path: ['stream'] });
export type ServedChatRequest = z.infer<typeof ServedChatRequestSchema>;

/** The sampling fields differad always sends (docs/method.md §7). */
export const EXPLICIT_SAMPLING_FIELDS = ['n', 'temperature', 'top_p', 'top_k', 'max_tokens', 'seed'] as const;

/** The images (in message order: reference, then target) and the texts of a chat request. */
export function toChatInputs(request: ServedChatRequest): { images: string[]; texts: string[] } {
  const images: string[] = [];
  const texts: string[] = [];
  for (const message of request.messages) {
    if (typeof message.content === 'string') texts.push(message.content);
    else {
      for (const part of message.content) {
        if (part.type === 'text') texts.push(part.text);
        else images.push(part.image_url.url);
      }
    }
  }
  return { images, texts };
}
