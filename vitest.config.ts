import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Integration files each mount their own filesystem; run files in parallel, tests in order.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
  },
});
