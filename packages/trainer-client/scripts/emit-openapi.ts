/**
 * Writes docs/trainer-api.json from the zod schemas of the trainer API.
 * Run from the repository root: `npx tsx packages/trainer-client/scripts/emit-openapi.ts`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTrainerOpenApiDocument, OPENAPI_FILE } from '../src/openapi/openapi-document.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const target = join(root, OPENAPI_FILE);
await mkdir(dirname(target), { recursive: true });
const tmp = `${target}.${process.pid}.tmp`;
await writeFile(tmp, formatTrainerOpenApiDocument());
await rename(tmp, target);
process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
