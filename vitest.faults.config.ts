import { defineConfig } from 'vitest/config';

/**
 * `pnpm test:faults`: the fault-injection suite. Real processes are killed and a private Redis is
 * restarted, paused and cut off, so files run one at a time: two at once on two cores would
 * measure each other.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    // Tests start the bundled CLI: build it from the current sources first.
    globalSetup: ['test/support/build-cli.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    fileParallelism: false,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest/faults.json' },
  },
});
