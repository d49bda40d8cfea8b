import { describe, expect, it } from 'vitest';
import type { BoilerplateReason, DroppedBlockReason, PageInfo, SummarizedArticle } from '../../src/article.js';
import { digestHref, FLAG_MEANINGS, renderArticleHtml } from '../../src/output/html.js';
import { arabicArticle, untranslatedArabicArticle } from '../fixtures/summarized-article.js';
import {
  contentSecurityPolicy,
  executableMarkup,
  isIsolated,
  parsePage,
  styleHashSource,
  textNodesContaining,
} from '../helpers/html-dom.js';

const page = (article: SummarizedArticle = arabicArticle(), status: Parameters<typeof renderArticleHtml>[1] = { status: 'ok' }) =>
  parsePage(renderArticleHtml(article, status));

const texts = (elements: Iterable<Element>) => [...elements].map((element) => element.textContent);

describe('renderArticleHtml', () => {
  it('is a whole English-chrome document with a policy that allows its own stylesheet and nothing else', () => {
    const html = renderArticleHtml(arabicArticle(), { status: 'ok' });
    expect(html.startsWith('<!doctype html>\n<html lang="en" dir="ltr">')).toBe(true);
    const document = parsePage(html);
    expect(document.querySelector('meta[charset]')?.getAttribute('charset')).toBe('utf-8');
    expect(document.querySelector('meta[name=viewport]')?.getAttribute('content')).toBe('width=device-width, initial-scale=1');
    const styles = document.querySelectorAll('style');
    expect(styles).toHaveLength(1);
    const policy = contentSecurityPolicy(document);
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('style-src')).toEqual([styleHashSource(styles[0]!)]);
    expect(policy.has('script-src')).toBe(false);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'none'"]);
    expect(executableMarkup(document)).toEqual([]);
  });

  it('follows the light/dark preference, stacks the columns on narrow screens and has print rules', () => {
    const css = page().querySelector('style')!.textContent!;
    expect(css).toContain('color-scheme: light dark');
    expect(css).toMatch(/@media \(prefers-color-scheme: dark\) \{\s*:root \{[^}]*--bg:/);
    // One column by default; two only from 44rem up, where the Arabic side moves to the right.
    expect(css).toMatch(/\.pair \{ display: grid; grid-template-columns: minmax\(0, 1fr\);/);
    expect(css).toMatch(/@media \(min-width: 44rem\) \{\s*\.pair \{ grid-template-columns: minmax\(0, 1fr\) minmax\(0, 1fr\);/);
    expect(css).toMatch(/@media print \{[^@]*\.screen-only \{ display: none !important; \}/);
    expect(page().querySelector('nav')?.classList.contains('screen-only')).toBe(true);
  });

  it('titles the page with the title in Arabic, right-to-left, beside its English', () => {
    const document = page();
    const [source, english] = document.querySelectorAll('h1 > span');
    expect(source).toMatchObject({ textContent: 'اليابان تعزز التعاون العسكري', lang: 'ar', dir: 'rtl' });
    expect(english).toMatchObject({ textContent: 'Japan strengthens military cooperation', lang: 'en', dir: 'ltr' });
    expect(document.title).toBe('\u2068Japan strengthens military cooperation\u2069');
    expect(document.querySelector('.rtl-source')).not.toBeNull();
  });

  it('gives every sentence one row: its source and its English, each with its language and direction', () => {
    const document = page();
    const article = arabicArticle();
    const paragraphs = [...document.querySelectorAll('.paragraph')];
    expect(paragraphs.map((p) => p.getAttribute('data-line'))).toEqual(['3', '4', '6']);
    const rows = paragraphs.map((paragraph) =>
      [...paragraph.querySelectorAll(':scope > .pair')].map((row) => {
        const [source, english] = row.children;
        expect(row.children).toHaveLength(2);
        return [
          source!.getAttribute('lang'),
          source!.getAttribute('dir'),
          source!.textContent,
          english!.getAttribute('dir'),
          english!.querySelector('span')!.textContent,
        ];
      }),
    );
    const expected = article.paragraphs
      .filter((paragraph) => paragraph.kind !== 'title')
      .map((paragraph) =>
        paragraph.sentences.map((sentence) => [
          paragraph.language.lang,
          paragraph.language.lang === 'ar' ? 'rtl' : 'ltr',
          sentence.source,
          'ltr',
          sentence.target,
        ]),
      );
    expect(rows).toEqual(expected);
  });

  it('puts the summary pairs first', () => {
    const document = page();
    const headings = texts(document.querySelectorAll('main h2'));
    expect(headings.slice(0, 2)).toEqual(['Summary', 'Article']);
    const summary = [...document.querySelectorAll('.summary > li.pair')].map((row) => [
      row.children[0]!.textContent,
      row.children[0]!.getAttribute('dir'),
      row.children[1]!.querySelector('span')!.textContent,
    ]);
    expect(summary).toEqual([
      ['قال رئيس الوزراء إنه يريد تعزيز التعاون.', 'rtl', 'The prime minister said he wants to strengthen cooperation.'],
      ['"We are ready," the minister said.', 'ltr', '"We are ready," the minister said.'],
    ]);
  });

  it('marks flagged sentences with the flag and its meaning, and explains the flags used', () => {
    const document = page();
    const marks = [...document.querySelectorAll('.paragraph mark.flag')];
    expect(marks.map((mark) => [mark.getAttribute('data-flag'), mark.textContent, mark.getAttribute('title')])).toEqual([
      ['length-ratio', FLAG_MEANINGS['length-ratio'].label, FLAG_MEANINGS['length-ratio'].meaning],
      ['passthrough', FLAG_MEANINGS.passthrough.label, FLAG_MEANINGS.passthrough.meaning],
    ]);
    expect(marks[0]!.closest('.pair')!.children[0]!.textContent).toBe('وأضاف أن الزيارة مهمة؟');
    expect(texts(document.querySelectorAll('.legend dd'))).toEqual([
      FLAG_MEANINGS['length-ratio'].meaning,
      FLAG_MEANINGS.passthrough.meaning,
    ]);
    // The summary's English quote carries its flag too.
    expect(document.querySelector('.summary mark.flag')?.getAttribute('data-flag')).toBe('passthrough');
  });

  it('lists the removed lines with their reasons in a collapsed section', () => {
    const details = page().querySelector('details.removed')!;
    expect(details.hasAttribute('open')).toBe(false);
    expect(details.querySelector('summary')!.textContent).toMatch(/^Removed lines \(2\)/);
    expect(texts(details.querySelectorAll('li'))).toEqual(['line 2 navigation شارك على فيسبوك', 'line 5 read-also اقرأ أيضا: خبر آخر']);
  });

  it('shows no status banner for a plain ok article, and the status, reason and fix otherwise', () => {
    expect(page().querySelector('.banner')).toBeNull();
    const document = page(untranslatedArabicArticle(), { status: 'partial', reason: 'model-unavailable' });
    const banner = document.querySelector('header .banner')!;
    expect(banner.getAttribute('role')).toBe('status');
    expect(banner.querySelector('.badge')!.textContent).toBe('partial');
    expect(banner.querySelector('.reason')!.textContent).toBe('model-unavailable');
    expect(banner.textContent).toContain('run `newsbridge models pull`');
    // Before the title: the first thing a reader sees.
    expect(banner.compareDocumentPosition(document.querySelector('h1')!) & 4 /* FOLLOWING */).toBeTruthy();
  });

  it('says on the English side what is missing and why, and keeps the English quote', () => {
    const document = page(untranslatedArabicArticle(), { status: 'partial', reason: 'model-unavailable' });
    const english = [...document.querySelectorAll('.paragraph .english')];
    expect(texts(english)).toEqual([
      '(no English: the translation model is not installed)',
      '(no English: the translation model is not installed)',
      '(no English: the translation model is not installed)',
      '"We are ready," the minister said.kept as is',
    ]);
    expect(english[0]!.classList.contains('missing')).toBe(true);
    expect(document.querySelector('h1 .english')!.textContent).toBe('(no English: the translation model is not installed)');
  });

  it('says what a web page said about itself, the address as text, and what its extraction took out', () => {
    const page: PageInfo = {
      title: 'Japan',
      byline: 'Staff writer',
      published: '2026-11-29',
      canonicalUrl: 'https://news.example/japan',
      siteName: 'Example News',
      lang: 'ar',
      extraction: 'readability',
      removed: [{ text: 'Photo: Reuters', reason: 'caption' }],
    };
    const document = parsePage(renderArticleHtml({ ...arabicArticle(), page }, { status: 'ok' }));
    expect(document.querySelector('.page-meta')!.textContent).toBe(
      'Web page from Example News · by Staff writer · published 2026-11-29 · https://news.example/japan · extracted with readability',
    );
    expect(document.querySelectorAll('a')).toHaveLength(1);
    const details = [...document.querySelectorAll('details.removed')];
    expect(details).toHaveLength(2);
    expect(details[1]!.querySelector('summary')!.textContent).toMatch(/^Taken out of the web page \(1\)/);
    expect(details[1]!.querySelector('li')!.textContent).toBe('caption Photo: Reuters');
  });

  it('links back to the digest from any depth of id', () => {
    expect(page().querySelector('nav a')!.getAttribute('href')).toBe('../index.html');
    expect(digestHref('a')).toBe('index.html');
    expect(digestHref('x/y/z')).toBe('../../index.html');
  });
});

/** An article with no title line, as the cleaner leaves one whose first line is prose (issue 18). */
function untitled(article: SummarizedArticle): SummarizedArticle {
  return { ...article, id: '000_d3c511104db8d652', title: null, paragraphs: article.paragraphs.filter((p) => p.kind === 'body') };
}

describe('renderArticleHtml: the heading of an article without a title line', () => {
  it('is the English of the first sentence, with the id in the byline instead', () => {
    const document = page(untitled(arabicArticle()));
    const h1 = document.querySelector('h1')!;
    expect(h1.textContent).toBe('The prime minister said he wants to strengthen cooperation.');
    expect(h1.querySelector('span')).toMatchObject({ lang: 'en', dir: 'ltr' });
    expect(document.title).toBe('\u2068The prime minister said he wants to strengthen cooperation.\u2069');
    expect(document.querySelector('header .meta .article-id')!.textContent).toBe('000_d3c511104db8d652');
    expect(h1.textContent).not.toContain('000_d3c511104db8d652');
  });

  it('is the first sentence in its language and direction when it has no English', () => {
    const h1 = page(untitled(untranslatedArabicArticle()), { status: 'partial', reason: 'model-unavailable' }).querySelector('h1')!;
    expect(h1.textContent).toBe('قال رئيس الوزراء إنه يريد تعزيز التعاون.');
    expect(h1.querySelector('span')).toMatchObject({ lang: 'ar', dir: 'rtl' });
  });

  it('cuts a long first sentence at a space, and is the id, in its own isolate, only when there is no sentence', () => {
    const article = untitled(arabicArticle());
    const long = `${'The minister said that the talks would go on '.repeat(5)}until spring.`;
    const [first, ...rest] = article.paragraphs;
    const withLong = { ...article, paragraphs: [{ ...first!, sentences: [{ ...first!.sentences[0]!, target: long }] }, ...rest] };
    const heading = page(withLong).querySelector('h1')!.textContent!;
    expect(heading.endsWith('…')).toBe(true);
    expect([...heading].length).toBeLessThanOrEqual(121);
    expect(long.startsWith(`${heading.slice(0, -1)} `)).toBe(true);

    const h1 = page({ ...article, paragraphs: [], summary: { indices: [], pairs: [] } }).querySelector('h1')!;
    expect(h1.textContent).toBe('000_d3c511104db8d652');
    expect(h1.querySelector('span')!.getAttribute('dir')).toBe('auto');
  });

  it('keeps the title line in the source beside its English when there is one, and shows the id in the byline', () => {
    const document = page();
    expect(texts(document.querySelectorAll('h1 > span'))).toEqual([
      'اليابان تعزز التعاون العسكري',
      'Japan strengthens military cooperation',
    ]);
    expect(document.querySelector('header .meta .article-id')!.textContent).toBe('news/001');
  });
});

/** Markup, script URLs and direction overrides, as a hostile or broken page would put them in an article. */
const HOSTILE = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(2)>',
  '<a href="javascript:alert(3)">click</a>',
  '</style></head><body onload=alert(4)>',
  '"><svg onload=alert(5)>',
  '\u202Eevil\u202C and \u202Dforced\u2066 open',
];
const hostile = (n: number) => HOSTILE.join(` ${n} `);

function hostileArticle(): SummarizedArticle {
  const article = arabicArticle();
  return {
    ...article,
    id: 'news/<script>',
    title: hostile(0),
    source: { ...article.source, path: `input/${hostile(1)}.txt`, encoding: hostile(2) },
    paragraphs: article.paragraphs.map((paragraph, p) => ({
      ...paragraph,
      text: hostile(10 + p),
      sentences: paragraph.sentences.map((sentence, s) => ({
        ...sentence,
        source: hostile(20 + p * 10 + s),
        target: hostile(60 + p * 10 + s),
      })),
    })),
    // The type allows only the clean stage's reasons; a library caller's JavaScript may pass anything.
    removed: [{ line: 2, text: hostile(100), reason: hostile(101) as BoilerplateReason }],
    page: {
      title: hostile(110),
      byline: hostile(111),
      published: hostile(112),
      canonicalUrl: 'javascript:alert(6)',
      siteName: hostile(113),
      lang: 'ar',
      extraction: hostile(114),
      removed: [{ text: hostile(115), reason: hostile(116) as DroppedBlockReason }],
    },
    summary: { indices: [2], pairs: [{ source: hostile(22), target: hostile(62) }] },
    translation: {
      ...article.translation,
      message: hostile(102),
      models: [{ lang: 'ar', id: hostile(103), revision: 'main', dtype: 'q8', weights: 'cd'.repeat(32) }],
    },
  };
}

describe('renderArticleHtml with hostile text', () => {
  const html = renderArticleHtml(hostileArticle(), { status: 'partial', reason: 'invalid-utf8', message: hostile(105) });
  const document = parsePage(html);

  it('has no executable markup: no script, no handler, no script URL, nothing external', () => {
    expect(executableMarkup(document)).toEqual([]);
    expect(document.querySelectorAll('a')).toHaveLength(1);
    expect(document.querySelectorAll('style')).toHaveLength(1);
  });

  it('shows every hostile text literally, as text', () => {
    const shown = document.body.textContent!;
    for (const n of [1, 2, 10, 22, 62, 30, 70, 100, 101, 103, 105, 111, 112, 113, 114, 115, 116]) expect(shown).toContain(hostile(n));
    expect(document.title).toBe(`\u2068${hostile(60)}\u2069`);
  });

  it('puts every input text in a bidi isolate, so an override in it cannot reorder the page around it', () => {
    const nodes = textNodesContaining(document, '\u202E');
    expect(nodes.length).toBeGreaterThanOrEqual(15);
    for (const node of nodes)
      expect({ text: node.textContent, isolated: isIsolated(node) }).toEqual({ text: node.textContent, isolated: true });
  });
});
