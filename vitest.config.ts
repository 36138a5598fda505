import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Integration files each mount their own filesystem; run files in parallel, tests in order.
    // Three at a time on two cores: many integration tests wait on agents and mounts, not the CPU.
    fileParallelism: true,
    maxWorkers: 3,
    minWorkers: 1,
  },
});
