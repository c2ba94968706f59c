import { decodeImage } from '@differad/images';
import { ServedChatRequestSchema, type ServedChatRequest, toChatInputs, toPromptTokenIds, toTokenPieces } from '@differad/inference';
import { readBodyText, startServer } from '@differad/http-server';
import { Hono } from 'hono';

/** Where the scripted model sees the anomaly: [x1, y1, x2, y2] as fractions of the target's width and height, or null (normal). */
export type SeenAnomaly = readonly [number, number, number, number] | null;

/** The box notation the prompt asks for: the text from the word before `x1` through `y2` and what is glued to it. */
function readNotation(prompt: string): string {
  const x1 = prompt.indexOf('x1');
  if (x1 < 0) throw new Error('the prompt names no box notation');
  const start = prompt.lastIndexOf(' as ', x1);
  const y2 = prompt.indexOf('y2', x1);
  if (start < 0 || y2 < 0) throw new Error('the prompt names no box notation');
  const end = prompt.slice(y2).search(/\s|$/) + y2;
  return prompt.slice(start + 4, end).replace(/[.,;:]+$/, '');
}

/** The size the prompt says coordinates are relative to: 1000×1000 for "0 to 1000", else the `(W×H)` it states. */
function readScale(prompt: string): { readonly width: number; readonly height: number } {
  if (/from 0 to 1000/.test(prompt)) return { width: 1000, height: 1000 };
  const stated = /\((\d+)×(\d+)\)/.exec(prompt);
  if (stated === null) throw new Error('the prompt names no coordinate frame');
  return { width: Number(stated[1]), height: Number(stated[2]) };
}

/**
 * What a model that obeys the prompt exactly writes: the box it sees, in the
 * notation and coordinates the prompt asks for (integers, as a model writes
 * them), the notation with zeros for a normal target, reasoning inside
 * `<think></think>` and the box inside `<answer></answer>` when asked for them.
 * Its reasoning names a box of the reference's corner, as reasoning does, so a
 * parser that reads boxes outside the answer is caught.
 */
export function answerAsAsked(prompt: string, seen: SeenAnomaly): string {
  const notation = readNotation(prompt);
  const scale = readScale(prompt);
  const [x1, y1, x2, y2] = seen ?? [0, 0, 0, 0];
  const values: Record<string, number> = {
    x1: Math.round(x1 * scale.width),
    y1: Math.round(y1 * scale.height),
    x2: Math.round(x2 * scale.width),
    y2: Math.round(y2 * scale.height),
  };
  const box = notation.replace(/[xy][12]/g, (name) => String(values[name]));
  const think = prompt.includes('<think></think>')
    ? '<think>The corner (0,0),(10,10) matches the reference; I compared the rest region by region.</think>'
    : '';
  return prompt.includes('<answer></answer>') ? `${think}<answer>${box}</answer>` : `${think}${box}`;
}

/** A scripted OpenAI-compatible server: every request it answered, and how to stop it. */
export interface ScriptedModelServer {
  readonly url: string;
  readonly model: string;
  /** Chat requests in the order they arrived. */
  readonly requests: ServedChatRequest[];
  close(): Promise<void>;
}

/** `#rrggbb` of the target's top-left pixel: how the scripted model tells pairs apart. */
export function toColorKey(rgb: readonly [number, number, number]): string {
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Starts a server that answers chat completions with {@link answerAsAsked}
 * over every text of the request (system and user), seeing the anomaly of the
 * target (the second image) by the colour of its top-left pixel in `seen`.
 * Serves `/v1/models`, `/health` and an empty `/metrics` as a fleet expects.
 */
export async function startScriptedModel(seen: ReadonlyMap<string, SeenAnomaly>, model = 'scripted'): Promise<ScriptedModelServer> {
  const requests: ServedChatRequest[] = [];
  const answer = async (body: unknown): Promise<Record<string, unknown>> => {
    const request = ServedChatRequestSchema.parse(body);
    requests.push(request);
    const { images, texts } = toChatInputs(request);
    const target = await decodeImage(Buffer.from(images[1]!.slice(images[1]!.indexOf(',') + 1), 'base64'), { channels: 3 });
    const key = toColorKey([target.data[0]!, target.data[1]!, target.data[2]!]);
    if (!seen.has(key)) throw new Error(`no pair has the target colour ${key}`);
    const text = answerAsAsked(texts.join('\n'), seen.get(key)!);
    const pieces = toTokenPieces(text);
    const choice = (index: number) => ({
      index,
      message: { role: 'assistant', content: text },
      logprobs: request.logprobs ? { content: pieces.map((p) => ({ token: p.text, logprob: -0.5 })) } : null,
      finish_reason: 'stop',
      token_ids: request.return_token_ids ? pieces.map((p) => p.id) : null,
    });
    return {
      id: `scripted-${requests.length}`,
      object: 'chat.completion',
      model,
      choices: Array.from({ length: request.n ?? 1 }, (_, i) => choice(i)),
      prompt_token_ids: request.return_token_ids ? toPromptTokenIds(texts, images.length) : null,
      usage: { prompt_tokens: 1, completion_tokens: pieces.length },
    };
  };
  const app = new Hono();
  app.onError((error, c) => c.json({ error: { message: error.message } }, 400));
  app.notFound((c) => c.json({ error: { message: `no route ${c.req.path}` } }, 404));
  app.get('/v1/models', (c) => c.json({ object: 'list', data: [{ id: model, object: 'model' }] }));
  app.get('/health', (c) => c.text('', 200, { 'content-type': 'text/plain' }));
  app.get('/metrics', (c) => c.text('', 200, { 'content-type': 'text/plain' }));
  app.post('/v1/chat/completions', async (c) => c.json(await answer(JSON.parse(await readBodyText(c)))));
  const server = await startServer(app);
  return { url: server.url, model, requests, close: () => server.close() };
}
