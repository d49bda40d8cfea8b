import { defineConfig } from 'vitest/config';

/**
 * `npm run test:browser`: the suite that drives headless Chromium (Debian's `chromium` at
 * /usr/bin/chromium) over the pages a real run writes. Kept out of `npm test`, which needs no browser.
 */
export default defineConfig({
  test: {
    include: ['tests/**/*.browser.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: 'forks',
    globalSetup: ['tests/setup/models.ts'],
  },
});
