import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser and workerd suites start their own processes; keep the 2-core machine calm.
    maxWorkers: 2,
  },
});
