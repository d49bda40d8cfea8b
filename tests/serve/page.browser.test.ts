/**
 * The server's reading page (`GET /`) in headless Chromium (Debian's package) with JavaScript off:
 * the form post alone takes an article to the bilingual page, its source beside the English.
 * `npm run test:browser`; not part of `npm test`.
 */
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { type RunningServer, startServer } from './server.js';

const CHROMIUM = '/usr/bin/chromium';

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(inject('modelsDir'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('without JavaScript, the form post shows the article with each source sentence beside its English', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.fill('#text', 'عنوان الخبر\nهذه فقرة أولى من المقال. وهذه جملة ثانية.');
  await Promise.all([page.waitForURL(/\/v1\/articles\?format=html$/), page.click('button[type=submit]')]);
  const pair = page.locator('div.pair').filter({ hasText: 'هذه فقرة أولى من المقال.' }).first();
  const source = pair.locator('.source');
  const english = pair.locator('.english');
  await expect.poll(() => source.textContent()).toContain('هذه فقرة أولى من المقال.');
  expect(await source.getAttribute('dir')).toBe('rtl');
  expect(((await english.textContent()) ?? '').trim().length).toBeGreaterThan(0);
  // Beside, not below: the two columns do not overlap across the page.
  const [a, b] = [await source.boundingBox(), await english.boundingBox()];
  expect(a && b).toBeTruthy();
  expect(a!.x + a!.width <= b!.x || b!.x + b!.width <= a!.x).toBe(true);
  await context.close();
});
