/**
 * The fields of a failure on a log line: `code` (a DifferadError's, or a
 * Node system error's such as ECONNREFUSED) at the top, so it can be queried,
 * and the error itself under `err` for pino's serializer.
 */
export function toErrorFields(error: unknown): { readonly code?: string; readonly err: unknown } {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return code === undefined ? { err: error } : { code, err: error };
}
