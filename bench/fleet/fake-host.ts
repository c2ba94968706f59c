/**
 * Child process of bench/fleet: starts the fake servers described by the JSON
 * in argv[2], prints their URLs as one JSON line, and stops on SIGTERM. Keeps
 * the servers' work off the client's event loop.
 */
import { type FakeVllmOptions, startFakeFleet } from '@differad/testing';

const specs = JSON.parse(process.argv[2] ?? '[]') as FakeVllmOptions[];
const fleet = await startFakeFleet(specs);
process.stdout.write(`${JSON.stringify({ urls: fleet.urls })}\n`);
process.once('SIGTERM', () => {
  void fleet.close().then(() => process.exit(0));
});
