import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFailedReason } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import { DIFFERAD_ERROR_TABLES, DIFFERAD_ERRORS } from './differad-errors.js';
import { ERROR_DOCS_EMIT_COMMAND, ERROR_DOCS_FILE, formatErrorTables, replaceErrorTables } from './error-docs.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The TypeScript and JavaScript sources of the repository that git knows (tracked, or new and not ignored). */
function listSources(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', 'packages', 'apps', 'test', 'bench'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\n').filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.includes('/dist/') && !f.includes('/node_modules/'));
}

/** Where a literal code is thrown or tested for: `DifferadError('X'` and `isDifferadError(e, 'X')` (calls nested two deep in `e`). */
const CODE_SITES = [
  /\bDifferadError\(\s*'([A-Z][A-Z0-9_]*)'/g,
  /\bisDifferadError\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*?,\s*'([A-Z][A-Z0-9_]*)'\s*\)/g,
];

function findCodeSites(): Map<string, string[]> {
  const sites = new Map<string, string[]>();
  for (const file of listSources()) {
    let text: string;
    try {
      text = readFileSync(join(ROOT, file), 'utf8');
    } catch {
      continue; // deleted in the working tree but still in the index
    }
    for (const pattern of CODE_SITES) {
      for (const m of text.matchAll(pattern)) {
        const before = text.slice(0, m.index);
        // A comment may show a code that is no code (a typo that does not compile).
        if (/^\s*(?:\*|\/\/|\/\*)/.test(before.slice(before.lastIndexOf('\n') + 1))) continue;
        const line = before.split('\n').length;
        sites.set(m[1]!, [...(sites.get(m[1]!) ?? []), `${file}:${line}`]);
      }
    }
  }
  return sites;
}

describe('the error registry', () => {
  it('registers every code thrown or tested for anywhere in the sources', () => {
    const sites = findCodeSites();
    // The scan must see the codes it exists for, or a broken pattern would pass.
    expect(sites.get('TRAIN_RUN_EXISTS')?.length, 'no throw site found').toBeGreaterThan(0);
    expect(sites.get('QUEUE_RUN_NOT_FOUND')?.length, 'no isDifferadError site found').toBeGreaterThan(0);
    const unregistered = [...sites]
      .filter(([code]) => !Object.hasOwn(DIFFERAD_ERRORS, code))
      .map(([code, where]) => `${code} at ${where.join(', ')}`);
    expect(unregistered).toEqual([]);
  });

  it('holds codes that survive Redis: SCREAMING_SNAKE with an area prefix, read back by parseFailedReason', () => {
    for (const code of Object.keys(DIFFERAD_ERRORS)) {
      expect(code, code).toMatch(/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/);
      expect(parseFailedReason(`${code}: it failed`).code).toBe(code);
    }
  });

  it('gives every code a summary, an HTTP status that is an error status or none, and an exit code of 1 or 2', () => {
    for (const [code, spec] of Object.entries(DIFFERAD_ERRORS)) {
      expect(spec.summary.trim().length, code).toBeGreaterThan(10);
      if (spec.status !== null) expect(spec.status >= 400 && spec.status <= 599, code).toBe(true);
      expect([undefined, 1, 2]).toContain(spec.exit);
    }
  });

  it(`documents every registered code in ${ERROR_DOCS_FILE}, as its tables say (else run ${ERROR_DOCS_EMIT_COMMAND})`, () => {
    const docs = readFileSync(join(ROOT, ERROR_DOCS_FILE), 'utf8');
    for (const code of Object.keys(DIFFERAD_ERRORS)) expect(docs, code).toContain(`| \`${code}\` |`);
    expect(docs).toBe(replaceErrorTables(docs, formatErrorTables(DIFFERAD_ERROR_TABLES)));
  });
});
