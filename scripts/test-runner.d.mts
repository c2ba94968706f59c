// Types of test-runner.mjs, for the TypeScript that imports it (its tests).

export interface Counts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** A suite of `npm test`: a command, and the report it writes (none for a check such as lint). */
export interface Suite {
  readonly name: string;
  readonly command: readonly string[];
  readonly report?: { readonly path: string; readonly kind: 'vitest' | 'junit' };
  /** Run first; when it fails the suite is not run and counts one failure, its last line the cause. */
  readonly prepare?: { readonly what: string; readonly command: readonly string[] };
}

export interface SuiteResult extends Counts {
  readonly name: string;
  readonly status: number;
  readonly seconds: number;
  /** What the summary line says after the name. */
  readonly note: string;
}

export function countVitestReport(json: unknown): Counts;
export function countJunitReport(xml: string): Counts;
export function mergeJunitReports(reports: readonly { readonly name: string; readonly xml: string }[]): string;
export function toSuiteResult(suite: Suite, status: number, reportText: string | null): Omit<SuiteResult, 'seconds'>;
export function lastLine(text: string | null | undefined): string;
export function toPrepareFailure(suite: Suite, status: number, output: string): Omit<SuiteResult, 'seconds'>;
export function formatTotals(counts: { readonly passed: number; readonly failed: number }): string;
export function combineCiCounts(
  tests: { readonly passed: number; readonly failed: number } | null,
  testStatus: number,
  benchmarks: { readonly ran: number; readonly failed: number },
): { passed: number; failed: number };
export function sumResults(results: readonly SuiteResult[]): { passed: number; failed: number };
export function formatSummary(results: readonly SuiteResult[]): string[];
export function runSuites(
  suites: readonly Suite[],
  options?: { cwd?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void },
): SuiteResult[];
