/**
 * Writes the generated error tables of docs/errors.md from every package's
 * error table (the prose around them stays as written).
 * Run from the repository root: `npx tsx apps/cli/scripts/emit-error-docs.ts`.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIFFERAD_ERROR_TABLES } from '../src/errors/differad-errors.js';
import { ERROR_DOCS_FILE, formatErrorTables, replaceErrorTables } from '../src/errors/error-docs.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const target = join(root, ERROR_DOCS_FILE);
const current = await readFile(target, 'utf8').catch(() => '# Error codes\n');
const tmp = `${target}.${process.pid}.tmp`;
await writeFile(tmp, replaceErrorTables(current, formatErrorTables(DIFFERAD_ERROR_TABLES)));
await rename(tmp, target);
process.stdout.write(`wrote ${ERROR_DOCS_FILE}\n`);
