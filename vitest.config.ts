import { defineConfig } from 'vitest/config';

// The source condition must be in ssr.resolve.conditions: with only resolve.conditions, Node-side
// test imports of sibling packages silently resolve to a stale dist/ (see docs and guard test).
export default defineConfig({
  ssr: { resolve: { conditions: ['@aofkv/source', 'module', 'node', 'development|production'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'engine', root: './packages/engine', include: ['test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'bio-workers',
          root: './packages/bio-workers',
          include: ['test/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'bench', root: './packages/bench', include: ['test/**/*.test.ts'] },
      },
    ],
  },
});
