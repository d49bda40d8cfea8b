import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The Chromium suite has its own config (vitest.browser.config.ts, `npm run test:browser`).
    exclude: [...configDefaults.exclude, 'tests/**/*.browser.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    globalSetup: ['tests/setup/models.ts'],
    setupFiles: ['tests/setup/transformers-log.ts'],
  },
});
