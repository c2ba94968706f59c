import { defineConfig } from 'vitest/config';

/**
 * Three projects, run together by `vitest run` (and npm test):
 * - unit: the packages' and apps' own tests and the repository checks — no
 *   Redis, no child `differad` (they may bind a loopback port in process);
 * - redis: tests named `*.redis.test.ts`, each on its own redis-server;
 * - e2e: the real `differad` and its servers as child processes, Chromium,
 *   Prometheus, docker-compose validation, the installer, fault injection.
 * `npm run test:unit` (and test:redis, test:e2e) runs one of them.
 */
const REDIS = '**/*.redis.test.ts';

export default defineConfig({
  test: {
    // The e2e tests start the real `differad`: build the compiled CLI first when a source is newer.
    globalSetup: ['test/setup/build-cli.ts'],
    testTimeout: 30_000,
    // npm test (scripts/run-tests.mjs) adds a JSON report on the command line, for its closing "N passed, N failed" line.
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/*.test.ts', 'test/scripts/**/*.test.ts'],
          exclude: [REDIS, '**/node_modules/**'],
        },
      },
      { extends: true, test: { name: 'redis', include: [`packages/*/src/${REDIS}`, `apps/*/src/${REDIS}`, `test/${REDIS}`] } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: [
            'test/e2e/**/*.test.ts',
            'test/chaos/**/*.test.ts',
            'test/servers/**/*.test.ts',
            'test/monitoring/**/*.test.ts',
            'test/install/**/*.test.ts',
          ],
          exclude: [REDIS, '**/node_modules/**'],
        },
      },
    ],
  },
});
