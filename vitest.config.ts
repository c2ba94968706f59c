import { defineConfig } from 'vitest/config';

// Under CI a JSON report is written too, so .ci/run can print one closing
// "N passed, N failed" line that any runner understands.
const ci = process.env.CI === 'true';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The e2e tests start the real `differad`: build the compiled CLI first when a source is newer.
    globalSetup: ['test/setup/build-cli.ts'],
    testTimeout: 30_000,
    reporters: ci ? ['default', 'json'] : ['default'],
    outputFile: ci ? { json: '.ci/out/vitest.json' } : undefined,
  },
});
