/**
 * The HTML outputs in a real browser: headless Chromium (Debian's package) over the pages a real run
 * writes for the sample input with the generated tiny models. `npm run test:browser`; not part of
 * `npm test`. Saves screenshots of one Arabic and one Vietnamese page into docs/ for the README.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fg from 'fast-glob';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { articleOutputSchema, type ArticleOutput } from '../../src/output/schema.js';
import { runPipeline } from '../../src/run/pipeline.js';

const CHROMIUM = '/usr/bin/chromium';
const SAMPLE_INPUT = path.resolve('input');
const DOCS = path.resolve('docs');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };
/** How far apart (CSS px) the first lines of a sentence's two sides may start. */
const SAME_LINE_PX = 4;
const EXTRA_COPY = '0-vi';

let scratch: string;
let outputDir: string;
let context: BrowserContext;
let outputs: ArticleOutput[];
/** Every request a page made, and every console error or page error, by page URL. */
const requests: string[] = [];
const blocked: string[] = [];
const errors: string[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-browser-'));
  const input = path.join(scratch, 'input');
  await mkdir(input);
  for (const name of await readdir(SAMPLE_INPUT)) await cp(path.join(SAMPLE_INPUT, name), path.join(input, name));
  // Two extra articles, so that sorting by status or by language changes the order and the digest has a
  // problem to show: the Vietnamese sample once more, listed first, and an empty file, listed last.
  const vietnamese = (await readdir(SAMPLE_INPUT)).sort().at(-1)!;
  await cp(path.join(SAMPLE_INPUT, vietnamese), path.join(input, `${EXTRA_COPY}.txt`));
  await writeFile(path.join(input, 'zz-empty.txt'), '');
  outputDir = path.join(scratch, 'output');
  const config: PipelineConfig = {
    ...defaultConfig,
    input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(input)}/*.txt`] },
    output: { dir: outputDir, formats: ['json', 'md', 'html'] },
    // The tiny models decode to their length limit: a ratio of 1 halves the time and changes nothing here.
    translation: { ...defaultConfig.translation, modelsDir: inject('modelsDir'), download: false, maxNewTokensRatio: 1 },
    cache: { ...defaultConfig.cache, path: path.join(scratch, 'cache.sqlite') },
  };
  const report = await runPipeline({ config });
  expect(report.articles).toMatchObject({ total: 7, ok: 6, failed: 1 });
  outputs = await Promise.all(
    (await readdir(outputDir))
      .filter((name) => name.endsWith('.json') && name !== 'run-report.json')
      .sort()
      .map(async (name) => articleOutputSchema.parse(JSON.parse(await readFile(path.join(outputDir, name), 'utf8')))),
  );

  context = await chromium.launchPersistentContext(path.join(scratch, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: DESKTOP,
  });
  context.on('request', (request) => requests.push(request.url()));
  // Nothing may leave the machine: a request for anything but a local file is recorded and refused.
  await context.route(/^(?!file:)/, (route) => {
    blocked.push(route.request().url());
    return route.abort();
  });
  context.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.page()?.url()}: ${message.text()}`);
  });
  context.on('weberror', (error) => errors.push(error.error().message));
});

afterAll(async () => {
  await context?.close();
  await rm(scratch, { recursive: true, force: true });
});

const urlOf = (file: string) => pathToFileURL(path.join(outputDir, file)).href;

async function open(file: string, viewport = DESKTOP): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  await page.goto(urlOf(file));
  return page;
}

/** The first sample article in this language (not the extra copy). */
const byLanguage = (lang: string) => outputs.find((output) => output.language.lang === lang && output.id !== EXTRA_COPY)!;

describe('article pages in Chromium', () => {
  it('loads every page with no request but the page itself and no console error', async () => {
    for (const output of outputs) {
      requests.length = 0;
      const page = await open(`${output.id}.html`);
      expect(requests).toEqual([urlOf(`${output.id}.html`)]);
      await page.close();
    }
    const digest = await open('index.html');
    await digest.close();
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
  });

  it('lays the Arabic source out right-to-left and the English left-to-right', async () => {
    const page = await open(`${byLanguage('ar').id}.html`);
    const directions = await page.$$eval('.paragraph .pair', (pairs) =>
      pairs.map((pair) => [getComputedStyle(pair.children[0]!).direction, getComputedStyle(pair.children[1]!).direction]),
    );
    expect(directions.length).toBeGreaterThan(5);
    expect(new Set(directions.map((d) => d.join(' ')))).toEqual(new Set(['rtl ltr']));
    // The Arabic column sits on the right, the English on the left.
    const [source, english] = await Promise.all(
      ['.paragraph .source', '.paragraph .english'].map((s) => page.locator(s).first().boundingBox()),
    );
    expect(source!.x).toBeGreaterThan(english!.x + english!.width);
    await page.close();
  });

  it('starts each sentence and its English on the same line, on every page', async () => {
    for (const output of outputs) {
      const page = await open(`${output.id}.html`);
      // The top of the first character of each side: where its first line of text starts.
      const tops = await page.$$eval('.paragraph > .pair, .summary > .pair', (pairs) =>
        pairs.map((pair) =>
          [...pair.children].map((cell) => {
            const text = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT).nextNode()!;
            const range = document.createRange();
            range.setStart(text, 0);
            range.setEnd(text, 1);
            return range.getClientRects()[0]!.top;
          }),
        ),
      );
      expect(tops.length).toBe(
        output.paragraphs.filter((p) => p.kind !== 'title').flatMap((p) => p.sentences).length + output.summary.pairs.length,
      );
      const worst = Math.max(...tops.map(([source, english]) => Math.abs(source! - english!)));
      expect(worst, `${output.id}: the two sides of a sentence start ${worst} px apart`).toBeLessThanOrEqual(SAME_LINE_PX);
      await page.close();
    }
  });

  it('fits a 375 px phone screen without horizontal scrolling, the English under its source', async () => {
    for (const file of [...outputs.map((output) => `${output.id}.html`), 'index.html']) {
      const page = await open(file, PHONE);
      const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      expect({ file, scrollWidth: widths[0] }).toEqual({ file, scrollWidth: widths[1] });
      if (file !== 'index.html') {
        const [source, english] = await Promise.all(
          ['.paragraph .source', '.paragraph .english'].map((s) => page.locator(s).first().boundingBox()),
        );
        expect(english!.y).toBeGreaterThanOrEqual(source!.y + source!.height - 1);
      }
      await page.close();
    }
  });

  it('follows the dark preference and prints black on white without the navigation', async () => {
    const page = await open(`${byLanguage('vi').id}.html`);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background()).toBe('rgb(20, 21, 23)');
    await page.emulateMedia({ colorScheme: 'dark', media: 'print' });
    expect(await background()).toBe('rgb(255, 255, 255)');
    expect(await page.locator('nav').isVisible()).toBe(false);
    await page.close();
  });

  it('saves desktop and phone screenshots of an Arabic and a Vietnamese page for the README', async () => {
    await mkdir(DOCS, { recursive: true });
    for (const lang of ['ar', 'vi']) {
      for (const [name, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        const page = await open(`${byLanguage(lang).id}.html`, viewport);
        const file = path.join(DOCS, `html-${lang}-${name}.png`);
        await page.screenshot({ path: file });
        expect((await readFile(file)).subarray(1, 4).toString()).toBe('PNG');
        await page.close();
      }
    }
    const digest = await open('index.html');
    await digest.screenshot({ path: path.join(DOCS, 'html-digest.png') });
    await digest.close();
  });
});

describe('the digest in Chromium', () => {
  it('links to every article page, each of which loads and links back', async () => {
    const page = await open('index.html');
    const links = page.locator('ol.articles h3 a');
    expect(await links.count()).toBe(outputs.length);
    for (let i = 0; i < outputs.length; i++) {
      await links.nth(i).click();
      await page.waitForURL(urlOf(`${outputs[i]!.id}.html`));
      expect(await page.locator('.paragraph .pair').count()).toBeGreaterThan(0);
      await page.locator('nav a').click();
      await page.waitForURL(urlOf('index.html'));
    }
    await page.close();
  });

  it('shows the failed article among the problems at the top', async () => {
    const page = await open('index.html');
    expect(await page.locator('.problems li').allTextContents()).toEqual(['zz-empty: failed (empty)']);
    await page.close();
  });

  it('sorts by status and by language when the reader picks it', async () => {
    const page = await open('index.html');
    /** Each entry's status and language, top to bottom as shown. */
    const shown = () =>
      page.$$eval('ol.articles > li', (items) =>
        items
          .map((item) => ({
            top: item.getBoundingClientRect().top,
            text: [...item.querySelectorAll('.entry-head .badge')].map((b) => b.textContent).join(' '),
          }))
          .sort((a, b) => a.top - b.top)
          .map((item) => item.text),
      );
    const [ar, vi, empty] = ['ok Arabic · ar', 'ok Vietnamese · vi', 'failed not read'];
    const inputOrder = [vi, ar, ar, ar, ar, vi, empty];
    expect(await shown()).toEqual(inputOrder);
    await page.locator('label[for="sort-language"]').click();
    expect(await shown()).toEqual([ar, ar, ar, ar, vi, vi, empty]);
    await page.locator('label[for="sort-status"]').click();
    expect(await shown()).toEqual([empty, vi, ar, ar, ar, ar, vi]);
    await page.locator('label[for="sort-input"]').click();
    expect(await shown()).toEqual(inputOrder);
    await page.close();
  });
});
