import type { ErrorTable } from '@differad/core';

/** The file that lists every registered error code. */
export const ERROR_DOCS_FILE = 'docs/errors.md';
/** How to write its generated part again after a table changed. */
export const ERROR_DOCS_EMIT_COMMAND = 'npx tsx apps/cli/scripts/emit-error-docs.ts';

/** The markers around the generated part of {@link ERROR_DOCS_FILE}; the prose around them is written by hand. */
export const ERROR_DOCS_BEGIN = `<!-- error tables: generated from the packages' tables by \`${ERROR_DOCS_EMIT_COMMAND}\`; do not edit -->`;
export const ERROR_DOCS_END = '<!-- end of the error tables -->';

const cell = (text: string) => text.replace(/\|/g, '\\|');

/**
 * The error tables as markdown, one section per package in the order given:
 * code, the HTTP status of a reply that carries it, whether it is retried,
 * the CLI's exit code and what went wrong.
 */
export function formatErrorTables(tables: Readonly<Record<string, ErrorTable>>): string {
  const sections = Object.entries(tables).map(([name, table]) => {
    const rows = Object.entries(table).map(
      ([code, spec]) =>
        `| \`${code}\` | ${spec.status ?? '–'} | ${spec.retryable ? 'yes' : 'no'} | ${spec.exit ?? 2} | ${cell(spec.summary)} |`,
    );
    const where = name === 'cli' ? `apps/${name}` : `packages/${name}`;
    return [`### ${where}`, '', '| Code | HTTP | Retried | Exit | What went wrong |', '| --- | --- | --- | --- | --- |', ...rows].join(
      '\n',
    );
  });
  return `${[ERROR_DOCS_BEGIN, '', ...sections.flatMap((s) => [s, '']), ERROR_DOCS_END].join('\n')}\n`;
}

/** `markdown` with its generated part replaced by `generated` (appended when the file has none yet). */
export function replaceErrorTables(markdown: string, generated: string): string {
  const begin = markdown.indexOf(ERROR_DOCS_BEGIN);
  const end = markdown.indexOf(ERROR_DOCS_END);
  if (begin < 0 || end < begin) return `${markdown.trimEnd()}\n\n${generated}`;
  return `${markdown.slice(0, begin)}${generated}${markdown.slice(end + ERROR_DOCS_END.length).replace(/^\n/, '')}`;
}
