import { describe, expect, it } from 'vitest';
import { isDifferadError } from '../errors/differad-error.js';
import { MODEL_FAMILIES } from '../parse/families.js';
import { parseAnswer } from '../parse/parse-answer.js';
import { fillTemplate, parsePromptPool, pickInstruction, toPairMessages, toPairPrompt, toSystemPrompt } from './pair-prompts.js';
import { FAMILY_ANSWER_FORMATS, INSTRUCTION_POOL } from './prompt-templates.js';

describe('pair prompts', () => {
  it('asks the differad family for <think> then only the box in <answer>, in the frame it answers in', () => {
    const norm = toSystemPrompt('differad', 'norm1000', { width: 448, height: 336 });
    expect(norm).toContain('<think></think>');
    expect(norm).toContain('<answer></answer>, as (x1,y1),(x2,y2)');
    expect(norm).toContain('the answer is (0,0),(0,0)');
    expect(norm).toContain('from 0 to 1000');
    expect(toSystemPrompt('differad', 'resized-pixels', { width: 448, height: 336 })).toContain('(448×336)');
    expect(norm).not.toMatch(/\{[a-z_]+\}/);
  });

  it("writes each family's empty box in a notation its parser reads as empty", () => {
    for (const family of MODEL_FAMILIES) {
      const { empty, tagged } = FAMILY_ANSWER_FORMATS[family];
      const text = tagged ? `<think>fine</think><answer>${empty}</answer>` : empty;
      expect(parseAnswer(text, family).kind, family).toBe('empty');
      expect(toSystemPrompt(family, 'norm1000', { width: 10, height: 10 })).toContain(empty);
    }
  });

  it('draws the same instruction for the same (seed, id), and uses the whole pool', () => {
    expect(pickInstruction(INSTRUCTION_POOL, 1, 'a')).toBe(pickInstruction(INSTRUCTION_POOL, 1, 'a'));
    const drawn = new Set(Array.from({ length: 400 }, (_, k) => pickInstruction(INSTRUCTION_POOL, 1, `id-${k}`)));
    expect(drawn.size).toBe(INSTRUCTION_POOL.length);
    const custom = toPairPrompt({
      family: 'differad',
      frame: 'norm1000',
      size: { width: 8, height: 8 },
      id: 'x',
      seed: 3,
      pool: ['only one'],
    });
    expect(custom.prompt).toBe('only one');
  });

  it('validates a pool file and fills templates', () => {
    expect(parsePromptPool(['a', 'b'], 'p.json')).toEqual(['a', 'b']);
    for (const bad of [[], ['ok', ''], 'text', [1]]) {
      const error = (() => {
        try {
          parsePromptPool(bad, 'p.json');
        } catch (e) {
          return e;
        }
      })();
      expect(isDifferadError(error, 'PROMPTS_INVALID')).toBe(true);
    }
    expect(fillTemplate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it('lays a prompt out as the system message, then the reference, the target and the instruction', () => {
    const prompt = toPairPrompt({ family: 'qwen2.5-vl', frame: 'resized-pixels', size: { width: 728, height: 532 }, id: 'p', seed: 1 });
    expect(prompt.system).toContain('(728×532)');
    expect(toPairMessages(prompt)).toEqual([
      { role: 'system', content: prompt.system },
      {
        role: 'user',
        content: [
          { type: 'image', image: 0 },
          { type: 'image', image: 1 },
          { type: 'text', text: prompt.prompt },
        ],
      },
    ]);
    expect(toPairMessages({ prompt: 'only' })).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image', image: 0 },
          { type: 'image', image: 1 },
          { type: 'text', text: 'only' },
        ],
      },
    ]);
  });
});
