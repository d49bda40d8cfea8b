import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fg from 'fast-glob';
import iconv from 'iconv-lite';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ARTICLE_FILES, defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { articleOutputSchema } from '../../src/output/schema.js';
import { runReportSchema } from '../../src/run/report.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { readPageInWorker } from '../../src/input/extraction-pool.js';
import type { ArticleOutcome } from '../../src/run/report.js';
import { ARABIC_ARTICLE } from '../helpers/bad-inputs.js';
import {
  ARABIC_HEADING,
  ARABIC_PAGE_META,
  ARABIC_PARAGRAPHS,
  ARABIC_TITLE,
  ENGLISH_PARAGRAPHS,
  SECTION_FRONT_PAGE,
  nestedPage,
  newsPage,
} from '../fixtures/pages.js';

// End to end: saved web pages through every stage with the generated tiny models (random weights:
// the English is gibberish, but it is the real model path).
let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'newsbridge-html-run-'));
  await mkdir(path.join(root, 'input', 'web'), { recursive: true });
  const arabic = newsPage({
    title: ARABIC_TITLE,
    paragraphs: ARABIC_PARAGRAPHS,
    heading: ARABIC_HEADING,
    lang: 'ar',
    dir: 'rtl',
    charset: 'windows-1256',
  });
  await writeFile(path.join(root, 'input', 'web', 'farmers.html'), iconv.encode(arabic, 'windows-1256'));
  // A template that says English over an English article: the hint agrees, nothing to translate.
  await writeFile(
    path.join(root, 'input', 'web', 'bridge.htm.gz'),
    gzipSync(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS, lang: 'en' })),
  );
  await writeFile(path.join(root, 'input', 'web', 'world.html'), SECTION_FRONT_PAGE);
});
afterAll(() => rm(root, { recursive: true, force: true }));

function config(at = root): PipelineConfig {
  return {
    ...defaultConfig,
    input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(path.join(at, 'input'))}/**/${ARTICLE_FILES}`] },
    output: { ...defaultConfig.output, dir: path.join(at, 'output') },
    translation: { ...defaultConfig.translation, modelsDir: inject('modelsDir'), download: false, maxNewTokensRatio: 1 },
    cache: { ...defaultConfig.cache, path: path.join(at, 'cache.sqlite') },
  };
}

const output = async (id: string) => articleOutputSchema.parse(JSON.parse(await readFile(path.join(root, 'output', `${id}.json`), 'utf8')));

describe('HTML articles in a run', () => {
  it('translates a windows-1256 Arabic page, records its metadata, and ends a section front as no-article', async () => {
    const report = await runPipeline({ config: config() });
    expect(report.articles).toMatchObject({ total: 3, ok: 2, failed: 1 });
    expect(report.reasons).toEqual({ 'no-article': 1 });

    const arabic = await output('web/farmers');
    expect(arabic.status).toBe('ok');
    expect(arabic.source.encoding).toBe('windows-1256');
    expect(arabic.language.lang).toBe('ar');
    expect(arabic.title).toBe(ARABIC_TITLE);
    expect(arabic.page).toEqual({
      ...ARABIC_PAGE_META,
      extraction: 'readability',
      removed: expect.arrayContaining([
        { text: 'Farmers at work in a wheat field near the river, photographed last spring.', reason: 'caption' },
      ]),
    });
    const body = arabic.paragraphs.filter((paragraph) => paragraph.kind !== 'title');
    expect(body.map((paragraph) => paragraph.sentences.map((sentence) => sentence.source).join(' '))).toEqual([
      ...ARABIC_PARAGRAPHS.slice(0, 2),
      ARABIC_HEADING,
      ...ARABIC_PARAGRAPHS.slice(2),
    ]);
    const sentences = body.flatMap((paragraph) => paragraph.sentences);
    expect(sentences.every((sentence) => typeof sentence.target === 'string' && sentence.target.length > 0)).toBe(true);
    expect(arabic.translation.status).toBe('translated');
    expect(arabic.models.map((model) => model.id)).toEqual(['Xenova/opus-mt-ar-en']);

    const english = await output('web/bridge');
    expect(english.language.lang).toBe('en');
    expect(english.page?.lang).toBe('en');
    expect(english.translation.status).toBe('passthrough');

    const manifest = (await readFile(path.join(root, 'output', 'manifest.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(manifest.find((line) => line.id === 'web/world')).toMatchObject({ status: 'failed', reason: 'no-article' });
  });
});

/**
 * A hostile page is slow in Readability by its structure: 5,000 nested `<div>`s, with the depth limit
 * raised so it gets there. Its extraction time grows faster than the square of its depth (measured,
 * bench/html-nesting.ts), so the tests need no guess at this machine's speed: `calibrate` measures it.
 */
const SLOW_DEPTH = 5_000;
const slowPageLimits = (extractSeconds: number) => ({ ...defaultConfig.input.html, maxDepth: SLOW_DEPTH * 2, extractSeconds });

/** A run folder of its own with these input files. */
async function runFolder(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const at = path.join(root, name);
  await mkdir(path.join(at, 'input'), { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(at, 'input', file), content);
  return at;
}

const englishPage = () => newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS, lang: 'en' });

/** How many times the small page's read (a fresh worker thread's included) the deadline is. */
const SMALL_PAGE_MARGIN = 3;

/** Seconds `html` takes to read in the run's path (a worker thread per read), as `readArticleFile` starts it. */
async function readSeconds(html: string, name: string): Promise<number> {
  const started = performance.now();
  const file = { path: name, id: name, maxBytes: Number.MAX_SAFE_INTEGER, limits: slowPageLimits(3600) };
  await readPageInWorker(Buffer.from(html), file, { deadlineSeconds: 3600 });
  return (performance.now() - started) / 1000;
}

/**
 * A deadline sized on this machine, now: SMALL_PAGE_MARGIN times the small page's slowest read, timed
 * as reads in a run are (`run.concurrency + 1` at once, so at least one starts a worker thread). Then
 * nested pages (depths a factor √2 apart) are read until one takes the deadline or longer: that page
 * is at most half SLOW_DEPTH deep, and extraction grows at least with the square of the depth, so the
 * 5,000-level page takes four times the deadline or more however fast or loaded the machine is.
 */
async function calibrate(): Promise<{ extractSeconds: number }> {
  const reads = Array.from({ length: defaultConfig.run.concurrency + 1 }, (_, index) => readSeconds(englishPage(), `small-${index}.html`));
  // In tenths of a second, as the deadline's message prints it.
  const extractSeconds = Math.ceil(SMALL_PAGE_MARGIN * Math.max(...(await Promise.all(reads))) * 10) / 10;
  for (let depth = 250; depth <= SLOW_DEPTH / 2; depth = Math.round(depth * Math.SQRT2)) {
    if ((await readSeconds(nestedPage(depth), `nested-${depth}.html`)) >= extractSeconds) return { extractSeconds };
  }
  throw new Error(
    `a ${SLOW_DEPTH / 2}-level page read in less than ${extractSeconds} s, ${SMALL_PAGE_MARGIN} small pages' time: raise SLOW_DEPTH`,
  );
}

describe('hostile pages fail only themselves', () => {
  let calibrated: { extractSeconds: number };
  beforeAll(async () => {
    calibrated = await calibrate();
  });

  it('fails a page of 200,000 nested <div>s as too-complex, and the other articles of the run end ok', async () => {
    const at = await runFolder('nested', { 'deep.html': nestedPage(200_000), 'bridge.html': englishPage(), 'news.txt': ARABIC_ARTICLE });
    const outcomes: ArticleOutcome[] = [];
    const report = await runPipeline({ config: config(at), events: { onArticle: (outcome) => outcomes.push(outcome) } });
    expect(report.articles).toMatchObject({ total: 3, ok: 2, failed: 1 });
    const deep = outcomes.find((outcome) => outcome.id === 'deep');
    expect(deep).toMatchObject({ status: 'failed', reason: 'too-complex' });
    expect(deep?.message).toContain('raise input.html.maxDepth in pipeline.yaml');
    expect(outcomes.filter((outcome) => outcome.id !== 'deep').map((outcome) => outcome.status)).toEqual(['ok', 'ok']);
  });

  it('stops an extraction past input.html.extractSeconds (the page fails too-complex), and extracts each page once: the corpus pass’s verdict is reused', async () => {
    // SMALL_PAGE_MARGIN times the small page's read, a quarter of the 5,000-level page's or less (see calibrate).
    const { extractSeconds } = calibrated;
    const at = await runFolder('deadline', { 'deep.html': nestedPage(SLOW_DEPTH), 'bridge.html': englishPage() });
    const runWith = async (clean: boolean) => {
      const outcomes: ArticleOutcome[] = [];
      const settings = config(at);
      const report = await runPipeline({
        config: { ...settings, input: { ...settings.input, html: slowPageLimits(extractSeconds) }, clean: { enabled: clean } },
        force: true,
        events: { onArticle: (outcome) => outcomes.push(outcome) },
      });
      return {
        report,
        deep: outcomes.find((outcome) => outcome.id === 'deep')!,
        bridge: outcomes.find((outcome) => outcome.id === 'bridge')!,
      };
    };
    for (const clean of [false, true]) {
      const { report, deep, bridge } = await runWith(clean);
      expect(report.articles).toMatchObject({ total: 2, ok: 1, failed: 1 });
      expect(bridge.status).toBe('ok');
      expect(deep).toMatchObject({ status: 'failed', reason: 'too-complex' });
      expect(deep.message).toContain(`took longer than input.html.extractSeconds (${extractSeconds} s)`);
      // Without a corpus pass the article's own read waits out the deadline; after one, it takes the
      // verdict the corpus pass reached instead of waiting it out a second time.
      if (clean) expect(deep.timings.read).toBeLessThan(extractSeconds * 1000);
      else expect(deep.timings.read).toBeGreaterThanOrEqual(extractSeconds * 1000);
    }
    // It waits out the calibrated deadline twice, however long this machine made it.
  }, 600_000);

  it('when stopped while a page is extracted, ends at once, leaving that article and the ones not started as they were', async () => {
    const at = await runFolder('stopped', { 'a.html': nestedPage(SLOW_DEPTH), 'b.html': englishPage(), 'c.txt': ARABIC_ARTICLE });
    const settings = config(at);
    const stop = new AbortController();
    let stoppedAt = 0;
    // The run's own log says when the slow page's read has begun.
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          const line = JSON.parse(chunk.toString('utf8'));
          if (line.msg === 'reading the article' && String(line.file).endsWith('a.html')) {
            stoppedAt = performance.now();
            stop.abort();
          }
          done();
        },
      }),
    );
    const report = await runPipeline({
      config: { ...settings, input: { ...settings.input, html: slowPageLimits(3600) }, clean: { enabled: false }, run: { concurrency: 1 } },
      log,
      signal: stop.signal,
    });
    expect(stop.signal.aborted).toBe(true);
    // At once: within the deadline, a quarter of the slow page's read or less, so that read was cut short.
    expect(performance.now() - stoppedAt).toBeLessThan(calibrated.extractSeconds * 1000);
    expect(report.interrupted).toBe(true);
    expect(report.articles).toMatchObject({ total: 3, notStarted: 3 });
    expect((await readdir(path.join(at, 'output'))).filter((name) => /^[abc]\./.test(name))).toEqual([]);
  });

  it('newsbridge run: SIGTERM during the corpus pass’s extraction of a slow page exits 143 promptly, interrupted, nothing written', async () => {
    const at = await runFolder('sigterm', {
      'a.html': nestedPage(SLOW_DEPTH),
      'b.txt': ARABIC_ARTICLE,
      'c.txt': ARABIC_ARTICLE.replace('.', '!'),
    });
    const configFile = path.join(at, 'pipeline.yaml');
    await writeFile(
      configFile,
      [
        'input:',
        '  html:',
        `    maxDepth: ${SLOW_DEPTH * 2}`,
        '    extractSeconds: 3600',
        'translation:',
        '  download: false',
        '  maxNewTokensRatio: 1',
        'cache:',
        `  path: ${JSON.stringify(path.join(at, 'cache.sqlite'))}`,
      ].join('\n'),
    );
    const args = [
      'run',
      '--verbose',
      '--config',
      configFile,
      '--input',
      path.join(at, 'input'),
      '--output',
      path.join(at, 'output'),
      '--models-dir',
      inject('modelsDir'),
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/cli/index.ts'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CI: '1' },
    });
    // A run that ignores the signal must not outlive the test.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    let signalledAt = 0;
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.includes('corpus pass: reading every article') && child.signalCode === null && !child.killed) {
        signalledAt = performance.now();
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(143);
    // Promptly: within the deadline, a quarter of the slow page's read or less, so that read was cut short.
    expect(performance.now() - signalledAt).toBeLessThan(calibrated.extractSeconds * 1000);
    expect(stderr).toContain('SIGTERM: finishing the articles in flight');
    const report = runReportSchema.parse(JSON.parse(await readFile(path.join(at, 'output', 'run-report.json'), 'utf8')));
    expect(report.interrupted).toBe(true);
    expect(report.articles).toMatchObject({ total: 3, notStarted: 3 });
    expect((await readdir(path.join(at, 'output'))).filter((name) => /^[abc]\./.test(name))).toEqual([]);
  });
});
