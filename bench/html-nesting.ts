/**
 * What a web page costs to read, by its nesting depth and by its size: the figures behind
 * `input.html.maxDepth` and `input.maxBytes` (bench/RESULTS.md, issue 18).
 *
 *   npm run bench:html-nesting -- [--depths 256,512,1000] [--sizes 5,10,20] [--seconds 600]
 *
 * Depths: tests/fixtures/pages.ts's news page inside that many nested `<div>`s; prints linkedom's
 * parse and Readability's time on that DOM (the two steps of `extractArticle`, timed apart), and the
 * peak RSS. Sizes (MB of HTML): the news page with its paragraphs repeated to that size, read whole by
 * `extractArticle` (limits raised); prints the time, the peak RSS, and RSS per MB of HTML over a
 * page of the plain news page's size. Each case runs in a child process of its own, so each peak RSS
 * is that case's; a case past `--seconds` is stopped and shown as such.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { extractArticle } from '../src/input/html-extract.js';
import { ENGLISH_PARAGRAPHS, nestedPage, newsPage } from '../tests/fixtures/pages.js';

interface CaseResult {
  bytes: number;
  parseSeconds?: number;
  readabilitySeconds?: number;
  extractSeconds?: number;
  peakRssMb: number;
}

const MB = 1024 * 1024;
/** Limits high enough that no case is refused before it is parsed. */
const NO_LIMITS = { maxDepth: Number.MAX_SAFE_INTEGER, maxElements: Number.MAX_SAFE_INTEGER };

const seconds = (since: number) => (performance.now() - since) / 1000;
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

function nestedCase(depth: number): CaseResult {
  const html = nestedPage(depth);
  let started = performance.now();
  const { document } = parseHTML(html);
  const parseSeconds = seconds(started);
  started = performance.now();
  new Readability(document as unknown as Document).parse();
  return { bytes: Buffer.byteLength(html), parseSeconds, readabilitySeconds: seconds(started), peakRssMb: peakRssMb() };
}

function sizeCase(megabytes: number): CaseResult {
  const page = (repeats: number) =>
    newsPage({
      title: 'Council rebuilds the bridge',
      paragraphs: Array.from({ length: repeats }, () => ENGLISH_PARAGRAPHS).flat(),
      lang: 'en',
    });
  const perRepeat = Buffer.byteLength(ENGLISH_PARAGRAPHS.map((paragraph) => `<p>${paragraph}</p>\n`).join(''));
  const html = megabytes === 0 ? page(1) : page(Math.max(1, Math.round((megabytes * MB) / perRepeat)));
  const started = performance.now();
  const result = extractArticle(html, NO_LIMITS);
  if (!result.found) throw new Error(`the ${megabytes} MB page gave no article: ${result.why}`);
  return { bytes: Buffer.byteLength(html), extractSeconds: seconds(started), peakRssMb: peakRssMb() };
}

/** Runs one case in a child process; null when it was stopped at the time limit. */
function runCase(spec: string, limitSeconds: number): CaseResult | null {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', spec], {
    encoding: 'utf8',
    timeout: limitSeconds * 1000,
    maxBuffer: MB,
  });
  if (child.signal) return null;
  if (child.status !== 0) throw new Error(`case ${spec} failed (exit ${child.status}):\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as CaseResult;
}

const numbers = (list: string, name: string) => {
  const values = list.split(',').map(Number);
  if (values.some((value) => !Number.isFinite(value) || value < 0)) throw new Error(`--${name} takes numbers ≥ 0, comma-separated`);
  return values;
};
const fixed = (value: number | undefined, digits = 2) => (value === undefined ? '' : value.toFixed(digits));

const { values: options } = parseArgs({
  options: {
    depths: { type: 'string', default: '256,512,1000' },
    sizes: { type: 'string', default: '5,10,20' },
    seconds: { type: 'string', default: '600' },
    case: { type: 'string' },
  },
});

if (options.case) {
  const [kind, value] = options.case.split(':');
  console.log(JSON.stringify(kind === 'depth' ? nestedCase(Number(value)) : sizeCase(Number(value))));
} else {
  const limit = Number(options.seconds);
  console.log('depth   HTML KB   parse s   Readability s   peak RSS MB');
  for (const depth of numbers(options.depths, 'depths')) {
    const result = runCase(`depth:${depth}`, limit);
    if (!result) console.log(`${String(depth).padStart(5)}   stopped after ${limit} s`);
    else
      console.log(
        `${String(depth).padStart(5)}  ${fixed(result.bytes / 1024, 0).padStart(8)}  ${fixed(result.parseSeconds).padStart(8)}  ${fixed(result.readabilitySeconds).padStart(14)}  ${fixed(result.peakRssMb, 0).padStart(12)}`,
      );
  }
  const base = runCase('size:0', limit);
  console.log('\nHTML MB   extract s   peak RSS MB   RSS MB per MB of HTML (over the plain page)');
  console.log(
    `${fixed(base!.bytes / MB, 3).padStart(7)}  ${fixed(base!.extractSeconds).padStart(10)}  ${fixed(base!.peakRssMb, 0).padStart(12)}`,
  );
  for (const size of numbers(options.sizes, 'sizes')) {
    const result = runCase(`size:${size}`, limit);
    if (!result) {
      console.log(`${String(size).padStart(7)}  stopped after ${limit} s`);
      continue;
    }
    const perMb = (result.peakRssMb - base!.peakRssMb) / ((result.bytes - base!.bytes) / MB);
    console.log(
      `${fixed(result.bytes / MB).padStart(7)}  ${fixed(result.extractSeconds).padStart(10)}  ${fixed(result.peakRssMb, 0).padStart(12)}  ${fixed(perMb, 1).padStart(12)}`,
    );
  }
}
