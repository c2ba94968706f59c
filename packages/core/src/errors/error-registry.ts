import type { CORE_ERRORS } from './core-errors.js';

/** What the registry says about one error code. */
export interface ErrorSpec {
  /**
   * The HTTP status of a reply that carries the code; null for a code no
   * server answers with (a server's error handler that meets one anyway
   * answers 500).
   */
  readonly status: number | null;
  /**
   * Whether trying again can succeed. It is the error's `retryable` flag,
   * except where the throw site decides from the cause (the HTTP status of
   * an `*_HTTP_ERROR`, the file-system code of `IMAGE_READ_FAILED`); then it
   * is the usual case.
   */
  readonly retryable: boolean;
  /**
   * `differad`'s exit code when the error ends a command without naming a
   * flag (`details.flag`); absent means 2, unusable input. 1 is wrong usage.
   */
  readonly exit?: 1 | 2;
  /** What went wrong, in one sentence (docs/errors.md lists it). */
  readonly summary: string;
}

/** One package's codes and their specs; each package declares its own `as const satisfies ErrorTable`. */
export type ErrorTable = Readonly<Record<string, ErrorSpec>>;

/**
 * Every package's table, by package name, assembled by declaration merging:
 * a package adds its own with
 * `declare module '@differad/core' { interface DifferadErrorTables { queue: typeof QUEUE_ERRORS } }`,
 * so {@link ErrorCode} knows every code while core imports no package above it.
 */
export interface DifferadErrorTables {
  readonly core: typeof CORE_ERRORS;
}

/** A registered error code: `new DifferadError('TYPO', …)` does not compile. */
export type ErrorCode = { [P in keyof DifferadErrorTables]: keyof DifferadErrorTables[P] & string }[keyof DifferadErrorTables];

/** The spec of `code` in `table`, or undefined (own keys only: `toString` is no code). */
export function toErrorSpec(table: ErrorTable, code: string): ErrorSpec | undefined {
  return Object.hasOwn(table, code) ? table[code] : undefined;
}

/**
 * The tables as one frozen table for a composition root that meets every
 * package's errors (the CLI's exit code, the registry's test). A code claimed
 * by two tables is a mistake the registry exists to prevent: it throws.
 */
export function mergeErrorTables(...tables: readonly ErrorTable[]): ErrorTable {
  const merged: Record<string, ErrorSpec> = {};
  for (const table of tables) {
    for (const [code, spec] of Object.entries(table)) {
      if (Object.hasOwn(merged, code)) throw new Error(`error code ${code} is registered twice`);
      merged[code] = spec;
    }
  }
  return Object.freeze(merged);
}

/** `{ TIMEOUT: 'INFERENCE_TIMEOUT', … }` for a table's codes that start with `prefix`. */
export type ErrorCodeNames<T extends ErrorTable, P extends string> = {
  readonly [K in keyof T & string as K extends `${P}${infer Rest}` ? Rest : never]: K;
};

/**
 * The codes of `table` that start with `prefix`, by the rest of their name
 * (`toErrorCodeNames(QUEUE_ERRORS, 'QUEUE_').RUN_NOT_FOUND` is
 * `'QUEUE_RUN_NOT_FOUND'`): the name maps a package's code keeps using, drawn
 * from its one table.
 */
export function toErrorCodeNames<T extends ErrorTable, P extends string>(table: T, prefix: P): ErrorCodeNames<T, P> {
  const names = Object.keys(table)
    .filter((code) => code.startsWith(prefix))
    .map((code) => [code.slice(prefix.length), code]);
  return Object.freeze(Object.fromEntries(names)) as ErrorCodeNames<T, P>;
}

/** `{ API_NOT_FOUND: 404, … }` for a table's codes that a server answers with. */
export type ErrorStatuses<T extends ErrorTable> = {
  readonly [K in keyof T & string as T[K]['status'] extends number ? K : never]: T[K]['status'];
};

/**
 * The codes of `table` that a server answers with, and their HTTP status, in
 * the table's order: the view an OpenAPI document lists.
 */
export function toErrorStatuses<T extends ErrorTable>(table: T): ErrorStatuses<T> {
  const statuses = Object.entries(table).flatMap(([code, spec]) => (spec.status === null ? [] : [[code, spec.status] as const]));
  return Object.freeze(Object.fromEntries(statuses)) as ErrorStatuses<T>;
}
