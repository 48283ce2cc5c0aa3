import { defineConfig } from 'vitest/config';

const project = (name: string, dir: string) => ({
  test: {
    name,
    root: dir,
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks' as const,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

export default defineConfig({
  test: {
    // native TensorFlow uses both cores itself; one test file at a time keeps timings sane
    fileParallelism: false,
    projects: [
      project('@unified-ad/core', 'packages/core'),
      project('@unified-ad/datasets', 'packages/datasets'),
      project('@unified-ad/eval', 'packages/eval'),
      project('@unified-ad/models-uniad', 'packages/models-uniad'),
      project('@unified-ad/models-baselines', 'packages/models-baselines'),
      project('@unified-ad/experiments', 'experiments'),
    ],
  },
});
