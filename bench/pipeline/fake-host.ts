/**
 * Child process of bench/pipeline: starts the fake vLLM servers described by
 * the JSON in argv[2], prints their URLs as one JSON line, and stops on
 * SIGTERM or when the bench is gone (host-exit.ts). Keeps the servers' JSON
 * work off the orchestrator's event loop, as real inference servers would be.
 */
import { type FakeVllmOptions, startFakeFleet } from '@differad/testing';
import { exitWith } from './host-exit.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as FakeVllmOptions[];
const fleet = await startFakeFleet(specs);
process.stdout.write(`${JSON.stringify({ urls: fleet.urls })}\n`);
exitWith(() => fleet.close());
