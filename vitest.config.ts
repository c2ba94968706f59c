import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The e2e tests start the real `differad`: build the compiled CLI first when a source is newer.
    globalSetup: ['test/setup/build-cli.ts'],
    testTimeout: 30_000,
    // npm test (scripts/run-tests.mjs) adds a JSON report on the command line, for its closing "N passed, N failed" line.
    reporters: ['default'],
  },
});
