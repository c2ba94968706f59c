/**
 * The API for schemathesis (test/schemathesis/run-schemathesis.mjs): `startFakeApi`
 * on 127.0.0.1 (an embedded Redis, launchers that only touch the stores, so a
 * valid generated run or job starts nothing). Prints its URL, stops on SIGTERM.
 *
 * Usage: tsx test/schemathesis/serve-fake-api.ts <token>
 */
import { startFakeApi } from '@differad/api/testing';

const token = process.argv[2];
if (!token) {
  process.stderr.write('usage: tsx test/schemathesis/serve-fake-api.ts <token>\n');
  process.exit(2);
}
const fake = await startFakeApi(token);
process.stdout.write(`fake API listening on ${fake.url}\n`);
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  fake.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`fake API: close after ${signal} failed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
