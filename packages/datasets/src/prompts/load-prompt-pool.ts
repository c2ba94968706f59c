import { readFile } from 'node:fs/promises';
import { DifferadError, parsePromptPool, type PromptPool } from '@differad/core';

/**
 * Reads a prompt pool file (`differad eval --prompts`, the training config's
 * `prompt.pool`): a JSON array of instruction strings, PROMPTS_INVALID
 * naming the file otherwise.
 */
export async function loadPromptPool(path: string): Promise<PromptPool> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DifferadError('PROMPTS_INVALID', `cannot read the prompt pool ${path}: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new DifferadError('PROMPTS_INVALID', `prompt pool ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parsePromptPool(json, path);
}
