/** A problem found on one line of a data file, to print as `file:line: field: message`. */
export interface LineProblem {
  readonly file: string;
  readonly line: number;
  /** Dotted field path, or "" when the whole line is at fault. */
  readonly field: string;
  readonly message: string;
}

/** `manifest.jsonl:12: box: box needs x2 > x1 …` */
export function formatLineProblem(p: LineProblem): string {
  return `${p.file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** Formats up to `limit` problems, then says how many more there are. */
export function formatLineProblems(problems: readonly LineProblem[], limit = 20): string {
  const shown = problems.slice(0, limit).map(formatLineProblem);
  if (problems.length > limit) shown.push(`… and ${problems.length - limit} more`);
  return shown.join('\n');
}
