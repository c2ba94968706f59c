import { describe, expect, it } from 'vitest';
import { listEnvNames } from './load-config.js';
import { loadLogConfig, LogSettingsSchema } from './log-config.js';

describe('loadLogConfig', () => {
  it('is info and auto by default, read from DIFFERAD_LOG_LEVEL and DIFFERAD_LOG_FORMAT, a flag first', () => {
    expect(loadLogConfig({ env: {} })).toEqual({ level: 'info', format: 'auto' });
    expect([...listEnvNames(LogSettingsSchema).keys()]).toEqual(['DIFFERAD_LOG_LEVEL', 'DIFFERAD_LOG_FORMAT']);
    expect(loadLogConfig({ env: { DIFFERAD_LOG_LEVEL: 'debug', DIFFERAD_LOG_FORMAT: 'json' } })).toEqual({
      level: 'debug',
      format: 'json',
    });
    expect(loadLogConfig({ env: { DIFFERAD_LOG_LEVEL: 'debug' }, flags: { level: 'warn', format: undefined } })).toEqual({
      level: 'warn',
      format: 'auto',
    });
  });

  it('names the variable and the allowed values of a wrong level', () => {
    expect(() => loadLogConfig({ env: { DIFFERAD_LOG_LEVEL: 'verbose' } })).toThrow(
      /log\.level: .*"trace".*\(from env DIFFERAD_LOG_LEVEL\)/,
    );
    expect(() => loadLogConfig({ env: {}, flags: { format: 'xml' } })).toThrow(/log\.format: .*\(from a command-line flag\)/);
  });
});
