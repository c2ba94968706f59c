import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DifferadError, isDifferadError } from '@differad/core';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { type DifferadConfig, DifferadConfigSchema } from './schemas.js';

/** Prefix of every environment variable the project reads. */
export const ENV_PREFIX = 'DIFFERAD_';

export type ConfigInput = Record<string, unknown>;

/** A config schema with named sections (each an object schema, possibly with a default). */
type ObjectSchema = z.ZodObject<Record<string, z.ZodType>>;

export interface LoadConfigInput {
  /** Environment (usually process.env, passed in by a composition root). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of a YAML or JSON file. */
  readonly file?: string | undefined;
  /** Values from command-line flags, in the config's nested shape; undefined leaves are ignored. */
  readonly flags?: ConfigInput;
}

/** One wrong field of a CONFIG_INVALID error; `source` says where its value came from (absent for a missing or unknown key). */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  readonly source?: 'file' | 'env' | 'flag';
}

type Source = { kind: 'default' } | { kind: 'file'; file: string } | { kind: 'env'; name: string } | { kind: 'flag' };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/** `DIFFERAD_GRPO_MAX_RESAMPLES` ↔ `grpo.maxResamples`, for every leaf of the schema. */
export function listEnvNames(schema: ObjectSchema = DifferadConfigSchema): Map<string, readonly [string, string]> {
  const names = new Map<string, readonly [string, string]>();
  for (const [section, sectionSchema] of Object.entries(schema.shape)) {
    const inner = unwrapObject(sectionSchema);
    for (const key of Object.keys(inner)) names.set(`${ENV_PREFIX}${toSnake(section)}_${toSnake(key)}`, [section, key]);
  }
  return names;
}

function unwrapObject(schema: z.ZodType): Record<string, unknown> {
  let s: unknown = schema;
  for (let i = 0; i < 5 && s !== undefined && s !== null; i++) {
    const def = (s as { _zod?: { def?: { shape?: Record<string, unknown>; innerType?: unknown; in?: unknown } } })._zod?.def;
    if (def?.shape) return def.shape;
    s = def?.innerType ?? def?.in;
  }
  // Unions (e.g. a `kind`-tagged section) have no single set of keys: no env names for them.
  return {};
}

/** Env values are text: numbers, booleans and null are read as such; the schema then checks them. */
function coerceEnvValue(raw: string): unknown {
  const t = raw.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  if (/^(true|yes|on)$/i.test(t)) return true;
  if (/^(false|no|off)$/i.test(t)) return false;
  if (t === 'null') return null;
  return t;
}

function readConfigFile(file: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new DifferadError('CONFIG_FILE_UNREADABLE', `cannot read config file ${file}: ${(cause as Error).message}`, { cause });
  }
  let value: unknown;
  try {
    value = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new DifferadError(
      'CONFIG_FILE_INVALID',
      `config file ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new DifferadError('CONFIG_FILE_INVALID', `config file ${file} must hold a mapping at the top level`);
  return value;
}

/** Deep merge of `over` onto `base`, recording where each leaf came from. */
function mergeInto(base: ConfigInput, over: ConfigInput, source: Source, sources: Map<string, Source>, prefix = ''): void {
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) {
      const target = isPlainObject(base[key]) ? (base[key] as ConfigInput) : {};
      base[key] = target;
      mergeInto(target, value, source, sources, path);
    } else {
      base[key] = value;
      sources.set(path, source);
    }
  }
}

function describeSource(source: Source | undefined): string {
  if (!source || source.kind === 'default') return '';
  if (source.kind === 'file') return ` (from ${source.file})`;
  if (source.kind === 'env') return ` (from env ${source.name})`;
  return ' (from a command-line flag)';
}

function deepFreeze<T>(value: T): T {
  if (isPlainObject(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Loads and validates the configuration once: flags > env > file > defaults.
 * Throws `CONFIG_INVALID` naming every wrong field, its allowed values and
 * where the value came from. The result is deeply frozen.
 */
export function loadConfig(input?: LoadConfigInput): DifferadConfig;
export function loadConfig<S extends ObjectSchema>(input: LoadConfigInput, schema: S): z.infer<S>;
export function loadConfig(input: LoadConfigInput = {}, schema: ObjectSchema = DifferadConfigSchema): unknown {
  const merged: ConfigInput = {};
  const sources = new Map<string, Source>();
  if (input.file !== undefined) mergeInto(merged, readConfigFile(input.file), { kind: 'file', file: input.file }, sources);
  const envNames = listEnvNames(schema);
  for (const [name, raw] of Object.entries(input.env ?? {})) {
    const target = envNames.get(name);
    if (raw === undefined || target === undefined) continue;
    mergeInto(merged, { [target[0]]: { [target[1]]: coerceEnvValue(raw) } }, { kind: 'env', name }, sources);
  }
  if (input.flags) mergeInto(merged, input.flags, { kind: 'flag' }, sources);

  const result = schema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return `  ${path || '(top level)'}: ${issue.message}${describeSource(sources.get(path))}`;
    });
    const issues: ConfigIssue[] = result.error.issues.map((i) => {
      const path = i.path.map(String).join('.');
      const source = sources.get(path)?.kind;
      return { path, message: i.message, ...(source === undefined || source === 'default' ? {} : { source }) };
    });
    throw new DifferadError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`, { details: { issues } });
  }
  return deepFreeze(result.data);
}

/**
 * True for a CONFIG_INVALID error whose every wrong value came from a
 * command-line flag: the caller's usage was wrong, not its files or environment.
 */
export function isFlagConfigError(error: unknown): boolean {
  if (!isDifferadError(error, 'CONFIG_INVALID')) return false;
  const issues = error.details.issues as readonly ConfigIssue[] | undefined;
  return issues !== undefined && issues.length > 0 && issues.every((issue) => issue.source === 'flag');
}
