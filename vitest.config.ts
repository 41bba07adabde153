import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['packages/custodia/test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites share the CPU with the database servers; two workers match this machine.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
