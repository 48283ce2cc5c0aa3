import { defineConfig } from 'vitest/config';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Every workspace package with a test/ folder is a vitest project (a new method package needs no edit here).
const root = path.dirname(new URL(import.meta.url).pathname);
const dirs = [
  ...fs.readdirSync(path.join(root, 'packages')).map((d) => path.join('packages', d)),
  'experiments',
].filter((d) => fs.existsSync(path.join(root, d, 'package.json')) && fs.existsSync(path.join(root, d, 'test')));

const project = (dir: string) => ({
  test: {
    name: JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8')).name as string,
    root: dir,
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks' as const,
    setupFiles: [path.join(root, 'scripts', 'vitest-setup.mts')],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

export default defineConfig({
  test: {
    // native TensorFlow uses both cores itself; one test file at a time keeps timings sane
    fileParallelism: false,
    projects: dirs.map(project),
  },
});
