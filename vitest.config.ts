import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Stacking tests start worker pools and decode real images: allow them time on a 2-core CI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
