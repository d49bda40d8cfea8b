import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { extractArticle } from '../../src/input/html-extract.js';
import {
  ARABIC_HEADING,
  ARABIC_PAGE_META,
  ARABIC_PARAGRAPHS,
  ARABIC_TITLE,
  ENGLISH_PARAGRAPHS,
  LOGIN_WALL_PAGE,
  NOT_FOUND_PAGE,
  SECTION_FRONT_PAGE,
  nestedPage,
  newsPage,
} from '../fixtures/pages.js';

function found(html: string) {
  const extracted = extractArticle(html);
  if (!extracted.found) throw new Error(`expected an article: ${extracted.why}`);
  return extracted;
}

describe('extractArticle', () => {
  it('keeps the article paragraphs, in order, with the heading as its own block', () => {
    const article = found(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS, heading: 'What comes next' }));
    expect(article.blocks).toEqual([
      { kind: 'body', text: ENGLISH_PARAGRAPHS[0] },
      { kind: 'body', text: ENGLISH_PARAGRAPHS[1] },
      { kind: 'heading', text: 'What comes next' },
      { kind: 'body', text: ENGLISH_PARAGRAPHS[2] },
      { kind: 'body', text: ENGLISH_PARAGRAPHS[3] },
    ]);
    expect(article.method).toBe('readability');
  });

  it('takes out the caption, byline, timestamp, newsletter plug and related list (each with its reason) and the share buttons', () => {
    const article = found(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS }));
    const reasons = Object.fromEntries(article.dropped.map((block) => [block.text, block.reason]));
    expect(reasons).toMatchObject({
      'Farmers at work in a wheat field near the river, photographed last spring.': 'caption',
      'By Jane Reporter': 'widget',
      'March 5, 2024 08:30 AM': 'timestamp',
      'Get the best stories of the week in your inbox: sign up for our newsletter today.': 'widget',
      'Wheat prices climb to their highest level in five years': 'link-list',
      Related: 'empty-section',
    });
    const text = article.blocks.map((block) => block.text).join('\n');
    expect(text).not.toMatch(/Share|newsletter|Wheat prices|Jane Reporter|Home|All rights reserved/);
  });

  it('reads the page metadata: title, byline, published date, canonical URL, site name, <html lang>', () => {
    const article = found(newsPage({ title: ARABIC_TITLE, paragraphs: ARABIC_PARAGRAPHS, lang: 'ar', dir: 'rtl' }));
    expect(article.meta).toEqual(ARABIC_PAGE_META);
  });

  it('extracts an Arabic article: paragraphs and heading intact, right to left as written', () => {
    const article = found(
      newsPage({ title: ARABIC_TITLE, paragraphs: ARABIC_PARAGRAPHS, heading: ARABIC_HEADING, lang: 'ar', dir: 'rtl' }),
    );
    expect(article.blocks.map((block) => block.text)).toEqual([
      ...ARABIC_PARAGRAPHS.slice(0, 2),
      ARABIC_HEADING,
      ...ARABIC_PARAGRAPHS.slice(2),
    ]);
  });

  it('takes out an Arabic timestamp line written in Arabic-Indic digits', () => {
    const html = newsPage({ title: ARABIC_TITLE, paragraphs: ARABIC_PARAGRAPHS, lang: 'ar', dir: 'rtl' }).replace(
      '<p>March 5, 2024 08:30 AM</p>',
      '<p>الثلاثاء ١٩ نوفمبر ٢٠١٩ - ٠٨:٣٨</p>',
    );
    const article = found(html);
    expect(article.dropped).toContainEqual({ text: 'الثلاثاء ١٩ نوفمبر ٢٠١٩ - ٠٨:٣٨', reason: 'timestamp' });
    expect(article.blocks.map((block) => block.text)).toEqual(ARABIC_PARAGRAPHS);
  });

  it('takes out a heading above the first paragraph (a deck), keeping headings inside the article', () => {
    const html = newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS, heading: 'What comes next' }).replace(
      '<p class="byline">',
      '<h2>A decade of debate ends with a vote to rebuild</h2><p class="byline">',
    );
    const article = found(html);
    expect(article.dropped).toContainEqual({ text: 'A decade of debate ends with a vote to rebuild', reason: 'header' });
    expect(article.blocks.filter((block) => block.kind === 'heading').map((block) => block.text)).toEqual(['What comes next']);
  });

  it('splits a paragraph at <br> into lines, and keeps a sentence that is all link', () => {
    const html = newsPage({
      title: 'Council rebuilds the bridge',
      paragraphs: [
        ...ENGLISH_PARAGRAPHS.slice(0, 2),
        'Tour dates:<br>June 9 – West Palm Beach<br>June 10 – Tampa',
        `<a href="/vote">${ENGLISH_PARAGRAPHS[2]}</a>`,
        ENGLISH_PARAGRAPHS[3]!,
      ],
    });
    const texts = found(html).blocks.map((block) => block.text);
    expect(texts).toContain('June 9 – West Palm Beach');
    expect(texts).toContain('June 10 – Tampa');
    expect(texts).toContain(ENGLISH_PARAGRAPHS[2]);
  });

  it.each([
    ['a 404 page', NOT_FOUND_PAGE],
    ['a section front', SECTION_FRONT_PAGE],
    ['a login wall', LOGIN_WALL_PAGE],
  ])('finds no article in %s, and says why', (_name, html) => {
    const extracted = extractArticle(html);
    expect(extracted).toMatchObject({ found: false, reason: 'no-article' });
    if (!extracted.found) expect(extracted.why).toMatch(/article/);
  });
});

describe('extractArticle: limits on the page, checked before it is parsed', () => {
  const limits = defaultConfig.input.html;

  it.each([200_000, 8_000])(
    'fails a page of %i nested <div>s as too-complex, naming input.html.maxDepth (it hung the run, and crashed Readability at 8,000)',
    (depth) => {
      const extracted = extractArticle(nestedPage(depth));
      expect(extracted).toMatchObject({ found: false, reason: 'too-complex' });
      if (!extracted.found) expect(extracted.why).toContain(`more than input.html.maxDepth (${limits.maxDepth}) deep`);
      if (!extracted.found) expect(extracted.why).toContain('raise input.html.maxDepth in pipeline.yaml');
    },
  );

  it('fails a page with more elements than input.html.maxElements as too-complex', () => {
    const spans = '<span>x</span>'.repeat(limits.maxElements);
    const extracted = extractArticle(newsPage({ title: 'Council rebuilds the bridge', paragraphs: [spans, ...ENGLISH_PARAGRAPHS] }));
    expect(extracted).toMatchObject({ found: false, reason: 'too-complex' });
    if (!extracted.found) expect(extracted.why).toContain(`more than input.html.maxElements (${limits.maxElements}) elements`);
  });

  it('takes the limits as settings: a page just past the default depth extracts when it is raised, as the page would unnested', () => {
    const depth = limits.maxDepth + 10;
    expect(extractArticle(nestedPage(depth))).toMatchObject({ found: false, reason: 'too-complex' });
    const raised = extractArticle(nestedPage(depth), { ...limits, maxDepth: depth + 20 });
    const plain = found(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS }));
    expect(raised).toMatchObject({ found: true, blocks: plain.blocks });
  });

  it('counts depth as the DOM nests, with implied end tags: a thousand unclosed <p>s are siblings, not a deep page', () => {
    const paragraphs = Array.from({ length: 1000 }, (_, index) => `<p>${ENGLISH_PARAGRAPHS[index % ENGLISH_PARAGRAPHS.length]}`).join('\n');
    const page = `<!doctype html><html lang="en"><head><title>Council</title></head><body><article>${paragraphs}</article></body></html>`;
    expect(found(page).blocks).toHaveLength(1000);
  });

  it('lists the texts the article marks translate="no" or class="notranslate", each once, not those of removed furniture', () => {
    const paragraphs = [
      `${ENGLISH_PARAGRAPHS[0]} <span translate="no">Daily Courier Plus</span> and <b class="brand notranslate">Riverside Farms</b>.`,
      `${ENGLISH_PARAGRAPHS[1]} <span translate="NO">Daily Courier Plus</span> <i translate="yes">again</i>.`,
      ...ENGLISH_PARAGRAPHS.slice(2),
    ];
    const page = newsPage({ title: 'Council rebuilds the bridge', paragraphs }).replace(
      'Share on X</a>',
      'Share on X</a> <span translate="no">ShareBar</span>',
    );
    const article = found(page);
    expect(article.doNotTranslate).toEqual(['Daily Courier Plus', 'Riverside Farms']);
    expect(article.blocks[0]!.text).toContain('Daily Courier Plus and Riverside Farms.');
  });
});
