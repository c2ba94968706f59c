import { readFile } from 'node:fs/promises';
import { DifferadError, type GaussianPolicy, GaussianPolicySchema } from '@differad/core';
import { z } from 'zod';

/**
 * Parameters every CPU policy file must define: the detector reads them.
 * `tolerance` and `pad` are optional (files written before they existed
 * detect with tolerance 0 and no pad, as they did then).
 */
export const CPU_POLICY_PARAMS = ['threshold', 'blur', 'min_area'] as const;

/** Parses and checks a policy file's content: the schema plus the detector's three parameters (POLICY_INVALID otherwise). */
export function parseCpuPolicy(value: unknown, source: string): GaussianPolicy {
  const parsed = GaussianPolicySchema.safeParse(value);
  if (!parsed.success) throw new DifferadError('POLICY_INVALID', `${source} is not a CPU policy:\n${z.prettifyError(parsed.error)}`);
  const missing = CPU_POLICY_PARAMS.filter((k) => !(k in parsed.data.params));
  if (missing.length > 0) throw new DifferadError('POLICY_INVALID', `${source} lacks the parameter(s) ${missing.join(', ')}`);
  return parsed.data;
}

/** Reads a policy file (JSON, GaussianPolicySchema); POLICY_INVALID names the file and what is wrong. */
export async function loadCpuPolicy(path: string): Promise<GaussianPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DifferadError('POLICY_INVALID', `cannot read policy file ${path}: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DifferadError('POLICY_INVALID', `policy file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseCpuPolicy(json, path);
}
