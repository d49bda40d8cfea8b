/**
 * Which npm feed parser `newsbridge fetch` uses: feedsmith, @rowanmanning/feed-parser and rss-parser
 * compared on correctness (valid feeds of each format, the malformed feeds sites really send, hostile
 * XML) and speed (a 500-item RSS and Atom feed, parsed repeatedly).
 *
 *   npm run bench:feed-parsers -- [--rounds N]
 *
 * A case is `ok` when the parser gives every expected item URL and title, `partial` when it gives
 * some, `error` when it throws (the right answer for the hostile cases: what matters there is that
 * nothing expands), `wrong` when it returns garbage without complaint. The billion-laughs case is
 * also timed: a parser that expands entities would take seconds and gigabytes.
 */
import { performance } from 'node:perf_hooks';
import { parseFeed as rowanmanning } from '@rowanmanning/feed-parser';
import { Command, InvalidArgumentError } from 'commander';
import { parseFeed as feedsmith } from 'feedsmith';
import RssParser from 'rss-parser';
import { atom, billionLaughs, jsonFeed, rdf, rss } from '../tests/fetch/feeds.js';

interface Parsed {
  urls: string[];
  titles: string[];
}

type Parse = (text: string) => Promise<Parsed>;

const titleText = (title: unknown): string =>
  typeof title === 'object' && title !== null ? String((title as { value?: unknown }).value ?? '') : String(title ?? '');

const PARSERS: Record<string, Parse> = {
  feedsmith: async (text) => {
    const parsed = feedsmith(/^\s*\{/.test(text) ? JSON.parse(text) : text);
    const items: { link?: string; url?: string; links?: { href?: string }[]; title?: unknown }[] =
      parsed.format === 'atom' ? (parsed.feed.entries ?? []) : (parsed.feed.items ?? []);
    return {
      urls: items.map((item) => item.link ?? item.url ?? item.links?.[0]?.href ?? ''),
      titles: items.map((item) => titleText(item.title)),
    };
  },
  '@rowanmanning/feed-parser': async (text) => {
    const parsed = rowanmanning(text);
    return { urls: parsed.items.map((item) => item.url ?? ''), titles: parsed.items.map((item) => item.title ?? '') };
  },
  'rss-parser': async (text) => {
    const parsed = await new RssParser().parseString(text);
    return { urls: parsed.items.map((item) => item.link ?? ''), titles: parsed.items.map((item) => item.title ?? '') };
  },
};

const entries = (n: number, prefix = 'Story') =>
  Array.from({ length: n }, (_, i) => ({
    url: `http://news.test/a/${i}.html`,
    title: `${prefix} ${i}`,
    date: new Date(Date.UTC(2026, 11, 7, 0, i)).toISOString(),
  }));
const three = entries(3);
const expected = { urls: three.map((entry) => entry.url), titles: three.map((entry) => entry.title) };

const CASES: { name: string; text: string; expect: Parsed | 'refuse' }[] = [
  { name: 'RSS 2.0', text: rss(three), expect: expected },
  { name: 'Atom', text: atom(three), expect: expected },
  { name: 'RDF/RSS 1.0', text: rdf(three), expect: expected },
  { name: 'JSON Feed', text: jsonFeed(three), expect: expected },
  { name: 'RSS, CDATA titles', text: rss(three).replace(/<title>(Story \d)<\/title>/g, '<title><![CDATA[$1]]></title>'), expect: expected },
  {
    name: 'RSS, stray & in a title',
    text: rss(three).replace('Story 1', 'Story 1 &'),
    expect: { ...expected, titles: ['Story 0', 'Story 1 &', 'Story 2'] },
  },
  {
    name: 'RSS, HTML entity (&nbsp;)',
    text: rss(three).replace('Story 1', 'Story&nbsp;1'),
    expect: { ...expected, titles: ['Story 0', 'Story\u00a01', 'Story 2'] },
  },
  { name: 'RSS, leading whitespace and BOM', text: `\uFEFF\n\n${rss(three)}`, expect: expected },
  {
    name: 'RSS, truncated after 2 items',
    text: rss(three).slice(0, rss(three).indexOf('<item>', rss(three).indexOf('Story 1'))),
    expect: { urls: expected.urls.slice(0, 2), titles: expected.titles.slice(0, 2) },
  },
  { name: 'RSS, mismatched tag', text: rss(three).replace('</title>', '</titel>'), expect: expected },
  { name: 'billion laughs', text: billionLaughs(), expect: 'refuse' },
  {
    name: 'external entity (XXE)',
    text: '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>t</title><item><title>&x;</title><link>http://news.test/a/0.html</link></item></channel></rss>',
    expect: 'refuse',
  },
];

function verdict(result: Parsed | Error, expectation: Parsed | 'refuse'): string {
  if (result instanceof Error) return expectation === 'refuse' ? 'error (right)' : 'error';
  if (expectation === 'refuse') {
    const leaked = result.titles.some((title) => title.includes('root:') || title.length > 1000);
    return leaked ? 'EXPANDED' : 'parsed, not expanded';
  }
  const urls = expectation.urls.filter((url, i) => result.urls[i] === url && result.titles[i] === expectation.titles[i]).length;
  if (urls === expectation.urls.length && result.urls.length === urls) return 'ok';
  return urls > 0 ? `partial (${urls}/${expectation.urls.length})` : 'wrong';
}

async function correctness(): Promise<void> {
  const names = Object.keys(PARSERS);
  console.log(`| case | ${names.join(' | ')} |\n| --- |${names.map(() => ' --- |').join('')}`);
  for (const test of CASES) {
    const cells: string[] = [];
    for (const name of names) {
      const started = performance.now();
      const result = await PARSERS[name]!(test.text).catch((error: Error) => error);
      const ms = performance.now() - started;
      cells.push(`${verdict(result, test.expect)}${test.expect === 'refuse' ? ` (${ms.toFixed(1)} ms)` : ''}`);
    }
    console.log(`| ${test.name} | ${cells.join(' | ')} |`);
  }
}

async function speed(rounds: number): Promise<void> {
  const big = entries(500, 'A rather long headline about the day’s events, number');
  const documents = { 'RSS 500 items': rss(big), 'Atom 500 items': atom(big) };
  console.log(
    `\n| feed (${rounds} rounds, median ms per parse) | ${Object.keys(PARSERS).join(' | ')} |\n| --- |${Object.keys(PARSERS)
      .map(() => ' --- |')
      .join('')}`,
  );
  for (const [name, text] of Object.entries(documents)) {
    const cells: string[] = [];
    for (const parse of Object.values(PARSERS)) {
      await parse(text); // warm-up
      const times: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const started = performance.now();
        await parse(text);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      cells.push(times[Math.floor(times.length / 2)]!.toFixed(2));
    }
    console.log(`| ${name} (${(text.length / 1024).toFixed(0)} KiB) | ${cells.join(' | ')} |`);
  }
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};
const options = new Command().option('--rounds <n>', 'parses per parser and feed', positive, 30).parse().opts<{ rounds: number }>();
await correctness();
await speed(options.rounds);
