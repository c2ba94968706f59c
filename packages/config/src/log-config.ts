import { z } from 'zod';
import { loadConfig } from './load-config.js';

/** pino's levels, quietest last (`silent` logs nothing). */
export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** `auto`: pretty lines when the log stream (stderr) is a terminal, JSON lines otherwise. */
export const LOG_FORMAT_NAMES = ['auto', 'json', 'pretty'] as const;

/** The diagnostic logs of a process (`differad worker|train|api`); README, "Logs". */
export const LogConfigSchema = z.strictObject({
  level: z.enum(LOG_LEVEL_NAMES).default('info'),
  format: z.enum(LOG_FORMAT_NAMES).default('auto'),
});
export type LogConfig = z.infer<typeof LogConfigSchema>;

/** The unit `loadLogConfig` validates: its env names are DIFFERAD_LOG_LEVEL and DIFFERAD_LOG_FORMAT. */
export const LogSettingsSchema = z.strictObject({ log: LogConfigSchema.prefault({}) });

/** The log settings: `--log-level`/`--log-format` > DIFFERAD_LOG_LEVEL/DIFFERAD_LOG_FORMAT > defaults (info, auto). */
export function loadLogConfig(input: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags?: { readonly level?: string | undefined; readonly format?: string | undefined };
}): LogConfig {
  return loadConfig({ env: input.env, flags: { log: { ...input.flags } } }, LogSettingsSchema).log;
}
