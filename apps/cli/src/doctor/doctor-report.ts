import { AGREEMENT_TOLERANCE_NATS, type DoctorCheck, toDoctorExitCode } from './doctor-verdicts.js';

const RESULT = { pass: 'ok', fail: 'FAIL', skip: 'skipped' } as const;

/**
 * The report as a table: check, server or trainer, result and what was seen,
 * with the fix on its own line under every failure, and a closing count.
 */
export function formatDoctorTable(checks: readonly DoctorCheck[]): string {
  const header = ['check', 'server / trainer', 'result', 'detail'];
  const rows = checks.map((c) => [c.check, c.target, RESULT[c.status], c.detail]);
  const widths = [0, 1, 2].map((k) => Math.max(header[k]!.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, k) => (k < 3 ? cell.padEnd(widths[k]!) : cell))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)).concat('------'))];
  checks.forEach((c, k) => {
    out.push(line(rows[k]!));
    if (c.fix !== null) out.push(`${' '.repeat(widths[0]! + 2)}fix: ${c.fix}`);
  });
  const failed = checks.filter((c) => c.status === 'fail').length;
  const skipped = checks.filter((c) => c.status === 'skip').length;
  out.push(
    '',
    failed === 0
      ? `all ${checks.length - skipped} check(s) passed${skipped > 0 ? `, ${skipped} skipped` : ''}`
      : `${failed} of ${checks.length} check(s) failed${skipped > 0 ? `, ${skipped} skipped` : ''}`,
  );
  return `${out.join('\n')}\n`;
}

/** The report for `--json`: `ok`, the tolerance of the agreement check, every row. */
export function toDoctorJson(checks: readonly DoctorCheck[]): { ok: boolean; tolerance_nats: number; checks: readonly DoctorCheck[] } {
  return { ok: toDoctorExitCode(checks) === 0, tolerance_nats: AGREEMENT_TOLERANCE_NATS, checks };
}
