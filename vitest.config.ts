import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // e2e tests create network namespaces; keep suites from racing each other on 2 cores
    fileParallelism: true,
    pool: 'forks',
  },
});
