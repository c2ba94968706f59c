import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The live suite: a real vLLM on the CPU serving a tiny random Qwen2-VL, and the Python trainer's
// hf backend on the same checkpoint. `npm run test:live-vllm` alone; `npm test` runs it as its
// fifth suite (scripts/run-tests.mjs). The venv is ~6 GiB (README, Development).
// Its files end in .live.ts, so the default config (`*.test.ts`) never picks them up.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/live-vllm/**/*.live.ts'],
    globalSetup: ['test/live-vllm/global-setup.ts'],
    // One server for every file, one file at a time.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 900_000,
    reporters: ['default'],
  },
});
