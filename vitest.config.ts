import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault-injection suite has its own config and command: pnpm test:faults.
    exclude: ['**/node_modules/**', 'test/faults/**'],
    // Tests start the bundled CLI: build it from the current sources first.
    globalSetup: ['test/support/build-cli.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own redis-server; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // CI reads the JSON report to print a plain "N passed, N failed" closing line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest/results.json' },
  },
});
