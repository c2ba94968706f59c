#!/usr/bin/env node
// Entry point of the `differad` command: loads the TypeScript sources through
// tsx so the workspace runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
