import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DifferadError } from '@differad/core';

/** The environment variable holding the API token. */
export const API_TOKEN_ENV = 'DIFFERAD_API_TOKEN';
/** Shorter tokens are refused: a bearer token is the only thing between the network and the job runner. */
export const MIN_TOKEN_LENGTH = 16;

/** Where the token came from. */
export interface ResolvedToken {
  readonly token: string;
  /** `env`: DIFFERAD_API_TOKEN; `file`: an existing token file; `generated`: made now and written to `file`. */
  readonly source: 'env' | 'file' | 'generated';
  readonly file: string | null;
  /** Something the operator should know (e.g. loose permissions that were tightened). */
  readonly warning: string | null;
}

/** The default token file: `$XDG_CONFIG_HOME/differad/api-token`, else `~/.config/differad/api-token`. */
export function toDefaultTokenFile(env: Readonly<Record<string, string | undefined>>): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(base, 'differad', 'api-token');
}

function checkToken(token: string, source: string): string {
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new DifferadError(
      'API_TOKEN_INVALID',
      `the API token from ${source} must be at least ${MIN_TOKEN_LENGTH} characters without spaces`,
    );
  }
  return token;
}

async function readTokenFile(file: string): Promise<ResolvedToken> {
  const info = await stat(file);
  let warning: string | null = null;
  // A token readable by group or others is as good as published: tighten it and say so.
  if ((info.mode & 0o077) !== 0) {
    await chmod(file, 0o600);
    warning = `${file} was readable by others (mode ${(info.mode & 0o777).toString(8)}); it is now 0600`;
  }
  const token = checkToken((await readFile(file, 'utf8')).trim(), file);
  return { token, source: 'file', file, warning };
}

/**
 * The API token: DIFFERAD_API_TOKEN when set; else the token in `file`; else
 * a new random one (256 bits, base64url) written to `file` with mode 0600 in a
 * 0700 folder (`wx`, so two servers starting at once cannot both write one).
 */
export async function resolveApiToken(env: Readonly<Record<string, string | undefined>>, file: string): Promise<ResolvedToken> {
  const fromEnv = env[API_TOKEN_ENV]?.trim();
  if (fromEnv) return { token: checkToken(fromEnv, API_TOKEN_ENV), source: 'env', file: null, warning: null };
  try {
    return await readTokenFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readTokenFile(file);
    throw error;
  }
  try {
    await handle.writeFile(`${token}\n`);
  } finally {
    await handle.close();
  }
  return { token, source: 'generated', file, warning: null };
}
