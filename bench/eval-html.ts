/**
 * HTML extraction eval: `npm run eval:html -- [DIR] [--limit N] [--variant NAME]… [--pages]`.
 * Scores each variant's article text against `DIR/ground-truth.json` (`{id: {articleBody, url}}`,
 * pages in `DIR/<id>.html.gz`; default ../shared/data/html/aeb-dev) with the article-extraction
 * benchmark's shingle score (bench/shingles.ts). Variants, from the library alone to what a run uses:
 * - `readability-text`: Readability's `textContent` (what the benchmark runs for readability.js);
 * - `readability-blocks`, `defuddle-blocks`: each library's article container cut into blocks, no rules;
 * - `defuddle-rules`: defuddle's container with newsbridge's structure rules;
 * - `extract`: `newsbridge extract` (Readability, structure rules);
 * - `pipeline`: `extract` then the clean stage, the paragraphs a run translates (title left out).
 * `--pages` prints each page's precision and recall for the last variant.
 * `--published DIR` checks the scorer instead: it scores the extractor outputs a clone of the
 * benchmark keeps (`DIR/output/*.json` against `DIR/ground-truth.json`), to compare with its README,
 * on all its pages and on the dev pages alone.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Readability } from '@mozilla/readability';
import defuddleBundle from 'defuddle';
import { parseHTML } from 'linkedom';
import { type ContentBlock, articleBlocks, contentBlocks, extractArticle } from '../src/input/html-extract.js';
import { decodeHtml, htmlReader } from '../src/input/html-reader.js';
import { removeBoilerplate } from '../src/stages/clean.js';
import { matchShingles, scoreExtraction, type ShingleMatch } from './shingles.js';
import { sharedPath } from './shared-data.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    limit: { type: 'string' },
    variant: { type: 'string', multiple: true },
    pages: { type: 'boolean' },
    published: { type: 'string' },
  },
});
const dir = positionals[0] ?? sharedPath('data/html/aeb-dev');
const limit = values.limit ? Number(values.limit) : Infinity;

interface Page {
  id: string;
  file: string;
  bytes: Buffer;
  html: string;
  truth: string;
  url: string;
}

const joinBlocks = (blocks: readonly ContentBlock[]) => blocks.map((block) => block.text).join('\n');

// defuddle ships a UMD bundle whose module.exports is the class itself; its types describe an ES module.
const Defuddle = defuddleBundle as unknown as typeof defuddleBundle.default;

function defuddleContent(page: Page): string {
  const { document } = parseHTML(page.html);
  return new Defuddle(document, { url: page.url }).parse().content;
}

function container(html: string): Element {
  return parseHTML(`<!doctype html><html><body>${html}</body></html>`).document.body;
}

const VARIANTS: Record<string, (page: Page) => string> = {
  'readability-text': (page) => new Readability(parseHTML(page.html).document).parse()?.textContent ?? '',
  'readability-blocks': (page) => {
    const parsed = new Readability<Element>(parseHTML(page.html).document, { serializer: (node) => node as Element }).parse();
    return parsed?.content ? joinBlocks(contentBlocks(parsed.content)) : '';
  },
  'defuddle-blocks': (page) => joinBlocks(contentBlocks(container(defuddleContent(page)))),
  'defuddle-rules': (page) => {
    const meta = extractArticle(page.html).meta;
    return joinBlocks(articleBlocks(container(defuddleContent(page)), meta).blocks.map((block) => ({ ...block, linkShare: 0 })));
  },
  extract: (page) => {
    const extracted = extractArticle(page.html);
    return extracted.found ? extracted.blocks.map((block) => block.text).join('\n') : '';
  },
  pipeline: (page) => {
    try {
      const article = htmlReader.read(page.bytes, { path: page.file, id: page.id, maxBytes: 64 * 1024 * 1024 });
      const cleaned = removeBoilerplate(article);
      return cleaned.paragraphs
        .filter((paragraph) => paragraph.kind !== 'title')
        .map((paragraph) => paragraph.text)
        .join('\n');
    } catch {
      return '';
    }
  },
};

if (values.published) {
  await scorePublished(values.published);
  process.exit(0);
}

/** The benchmark's own outputs, scored here: on all pages the figures must be those its README publishes. */
async function scorePublished(benchmark: string): Promise<void> {
  type Bodies = Record<string, { articleBody?: string }>;
  const truth = JSON.parse(await readFile(path.join(benchmark, 'ground-truth.json'), 'utf8')) as Bodies;
  const devIds = Object.keys(JSON.parse(await readFile(path.join(dir, 'ground-truth.json'), 'utf8')) as Bodies);
  const allIds = Object.keys(truth);
  const row = (ids: string[], predicted: Bodies) => {
    const score = scoreExtraction(ids.map((id) => matchShingles(truth[id]?.articleBody ?? '', predicted[id]?.articleBody ?? '')));
    return [score.f1, score.precision, score.recall].map((value) => value.toFixed(3).padStart(6)).join(' ');
  };
  console.log(`${'extractor'.padEnd(22)} ${`all ${allIds.length} pages: F1, P, R`.padEnd(22)} dev ${devIds.length} pages: F1, P, R`);
  for (const file of (await readdir(path.join(benchmark, 'output'))).filter((name) => name.endsWith('.json')).sort()) {
    const saved = JSON.parse(await readFile(path.join(benchmark, 'output', file), 'utf8')) as Bodies | { version: string; output: Bodies };
    const predicted = 'output' in saved && 'version' in saved ? (saved.output as Bodies) : (saved as Bodies);
    console.log(`${path.basename(file, '.json').padEnd(22)} ${row(allIds, predicted)}  ${row(devIds, predicted)}`);
  }
}

const names = values.variant ?? Object.keys(VARIANTS);
for (const name of names) if (!VARIANTS[name]) throw new Error(`unknown --variant ${name}; one of ${Object.keys(VARIANTS).join(', ')}`);

const truth = JSON.parse(await readFile(path.join(dir, 'ground-truth.json'), 'utf8')) as Record<
  string,
  { articleBody?: string; url?: string }
>;
const pages: Page[] = [];
for (const id of Object.keys(truth).sort().slice(0, limit)) {
  const file = path.join(dir, `${id}.html.gz`);
  const bytes = await readFile(file);
  const { gunzipSync } = await import('node:zlib');
  pages.push({
    id,
    file,
    bytes,
    html: decodeHtml(gunzipSync(bytes), file).text,
    truth: truth[id]?.articleBody ?? '',
    url: truth[id]?.url ?? 'https://example.invalid/',
  });
}

console.log(`${pages.length} pages from ${dir}`);
console.log(`${'variant'.padEnd(20)} ${'F1'.padStart(6)} ${'P'.padStart(6)} ${'R'.padStart(6)}  ms/page`);
let last: ShingleMatch[] = [];
for (const name of names) {
  const started = performance.now();
  const matches = pages.map((page) => matchShingles(page.truth, VARIANTS[name]!(page)));
  const ms = (performance.now() - started) / pages.length;
  const score = scoreExtraction(matches);
  console.log(
    `${name.padEnd(20)} ${score.f1.toFixed(3).padStart(6)} ${score.precision.toFixed(3).padStart(6)} ${score.recall.toFixed(3).padStart(6)}  ${ms.toFixed(0)}`,
  );
  last = matches;
}
if (values.pages) {
  pages.forEach((page, index) => {
    const { tp, fp, fn } = last[index]!;
    console.log(`${page.id.slice(0, 12)} P ${(tp / (tp + fp || 1)).toFixed(3)} R ${(tp / (tp + fn || 1)).toFixed(3)}`);
  });
}
