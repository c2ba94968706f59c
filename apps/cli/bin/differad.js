#!/usr/bin/env node
// Entry point of the `differad` command: loads the TypeScript sources through
// tsx so the workspace runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
const code = await main(process.argv);
process.exitCode = code;
// A finished command exits even if a client library left an idle keep-alive
// socket open; the timer does not itself keep the process alive.
setTimeout(() => process.exit(code), 500).unref();
