import { describe, expect, it } from 'vitest';
import {
  DIGEST_FILE,
  digestEntryFromManifest,
  digestEntryFromOutput,
  pageHref,
  renderDigestHtml,
  type DigestEntry,
} from '../../src/output/digest.js';
import { renderArticleJson } from '../../src/output/json.js';
import { buildRunReport, type RunReport } from '../../src/run/report.js';
import { arabicArticle } from '../fixtures/summarized-article.js';
import {
  contentSecurityPolicy,
  executableMarkup,
  isIsolated,
  parsePage,
  styleHashSource,
  textNodesContaining,
} from '../helpers/html-dom.js';

const output = renderArticleJson(arabicArticle(), { status: 'ok', models: [], timings: {}, fingerprint: 'ab'.repeat(32) });

function report(problems: string[] = []): RunReport {
  return buildRunReport({
    startedAt: new Date('2026-11-30T02:00:00Z'),
    finishedAt: new Date('2026-11-30T02:03:00Z'),
    listed: 4,
    outcomes: [
      { id: 'news/001', status: 'ok', timings: {}, sentencesTranslated: 5 },
      { id: 'vi/1', status: 'skipped', reason: 'up-to-date', timings: {}, sentencesTranslated: 0 },
      { id: 'photo', status: 'failed', reason: 'binary', timings: {}, sentencesTranslated: 0 },
      { id: 'fa', status: 'partial', reason: 'model-unavailable', timings: {}, sentencesTranslated: 0 },
    ],
    modelCalls: 1,
    sentencesToModel: 5,
    cacheHits: 0,
    problems,
  });
}

const entries: DigestEntry[] = [
  digestEntryFromOutput(output, { status: 'ok', page: 'news/001.html' }),
  {
    id: 'vi/1',
    status: 'skipped',
    reason: 'up-to-date',
    language: { lang: 'vi', confidence: 0.99 },
    title: { source: 'Giá xăng giảm', lang: 'vi', english: 'Petrol prices fall' },
    summary: ['Petrol fell.', null],
    page: 'vi/1.html',
  },
  {
    id: 'photo',
    status: 'failed',
    reason: 'binary',
    message: 'input/photo.txt: binary, not text',
    language: null,
    title: null,
    summary: [],
  },
  digestEntryFromManifest({
    id: 'fa',
    source: 'input/fa.txt',
    status: 'partial',
    reason: 'model-unavailable',
    outputs: { json: 'fa.json', html: 'fa.html' },
    language: { lang: 'und', confidence: 0.2 },
    summary: [null],
  }),
];

describe('digest entries', () => {
  it('take the English title, language and English summary from an article output', () => {
    expect(digestEntryFromOutput(output, { status: 'ok', page: 'news/001.html' })).toEqual({
      id: 'news/001',
      status: 'ok',
      language: { lang: 'ar', confidence: 0.98 },
      title: { source: 'اليابان تعزز التعاون العسكري', lang: 'ar', english: 'Japan strengthens military cooperation' },
      summary: ['The prime minister said he wants to strengthen cooperation.', '"We are ready," the minister said.'],
      page: 'news/001.html',
    });
  });

  it('take the first sentence, in the source and in English, for an article without a title line (issue 18)', () => {
    const article = arabicArticle();
    const untitled = {
      ...article,
      id: '000_d3c511104db8d652',
      title: null,
      paragraphs: article.paragraphs.filter((paragraph) => paragraph.kind === 'body'),
    };
    const json = renderArticleJson(untitled, { status: 'ok', models: [], timings: {}, fingerprint: 'ab'.repeat(32) });
    const entry = digestEntryFromOutput(json, { status: 'ok', page: '000_d3c511104db8d652.html' });
    expect(entry.title).toEqual({
      source: 'قال رئيس الوزراء إنه يريد تعزيز التعاون.',
      lang: 'ar',
      english: 'The prime minister said he wants to strengthen cooperation.',
    });
    const digest = parsePage(renderDigestHtml({ report: report(), entries: [entry] }));
    expect(digest.querySelector('.entry h3')!.textContent).toBe('The prime minister said he wants to strengthen cooperation.');
    expect(digest.querySelector('.entry .entry-id')!.textContent).toBe('000_d3c511104db8d652');
  });

  it('take what a manifest line knows, its page included', () => {
    expect(entries[3]).toEqual({
      id: 'fa',
      status: 'partial',
      reason: 'model-unavailable',
      language: { lang: 'und', confidence: 0.2 },
      title: null,
      summary: [null],
      page: 'fa.html',
    });
  });
});

describe('renderDigestHtml', () => {
  const document = parsePage(renderDigestHtml({ report: report(['ar: Xenova/opus-mt-ar-en could not be downloaded']), entries }));
  const items = () => [...document.querySelectorAll('ol.articles > li')];

  it('is named index.html and is a safe, self-contained page', () => {
    expect(DIGEST_FILE).toBe('index.html');
    expect(executableMarkup(document)).toEqual([]);
    const policy = contentSecurityPolicy(document);
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('style-src')).toEqual([styleHashSource(document.querySelector('style')!)]);
  });

  it('lists every article in input order with its status, language, English title and English summary', () => {
    const rows = items().map((item) => ({
      status: item.querySelector('.entry-head .badge')!.textContent,
      language: item.querySelectorAll('.entry-head .badge')[1]!.textContent,
      title: item.querySelector('h3')!.textContent,
      summary: item.querySelector('.entry-summary')?.textContent ?? null,
    }));
    expect(rows).toEqual([
      {
        status: 'ok',
        language: 'Arabic · ar',
        title: 'Japan strengthens military cooperation',
        summary: 'The prime minister said he wants to strengthen cooperation. "We are ready," the minister said.',
      },
      { status: 'skipped', language: 'Vietnamese · vi', title: 'Petrol prices fall', summary: 'Petrol fell. (no English)' },
      { status: 'failed', language: 'not read', title: 'photo', summary: null },
      { status: 'partial', language: 'unknown language · und', title: 'fa', summary: '(no English)' },
    ]);
    expect(items()[0]!.querySelector('.source-title')).toMatchObject({
      textContent: 'اليابان تعزز التعاون العسكري',
      lang: 'ar',
      dir: 'rtl',
    });
    expect(items()[2]!.textContent).toContain('input/photo.txt: binary, not text');
  });

  it('links each article that has a page to it, and none that has not', () => {
    expect(items().map((item) => item.querySelector('h3 a')?.getAttribute('href') ?? null)).toEqual([
      './news/001.html',
      './vi/1.html',
      null,
      './fa.html',
    ]);
  });

  it('puts the run problems and the failed and partial articles at the top, linked to their entries', () => {
    const problems = document.querySelector('body > .problems')!;
    expect(problems.compareDocumentPosition(document.querySelector('ol.articles')!) & 4 /* FOLLOWING */).toBeTruthy();
    expect([...problems.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'ar: Xenova/opus-mt-ar-en could not be downloaded',
      'photo: failed (binary)',
      'fa: partial (model-unavailable)',
    ]);
    for (const link of problems.querySelectorAll('a')) expect(document.getElementById(link.getAttribute('href')!.slice(1))).not.toBeNull();
    expect(document.querySelector('.run')!.textContent).toMatch(
      /^4 articles: 1 ok · 1 partial · 1 failed · 1 skipped\. Run finished 2026-11-30 02:03 UTC\.$/,
    );
  });

  it('counts a skipped article whose kept outputs are partial among the problems, and says so in its entry', () => {
    const kept: DigestEntry = { ...entries[1]!, kept: { status: 'partial', reason: 'model-unavailable' } };
    const page = parsePage(renderDigestHtml({ report: report(), entries: [entries[0]!, kept] }));
    expect([...page.querySelectorAll('.problems li')].map((li) => li.textContent)).toEqual([
      'vi/1: skipped, kept partial (model-unavailable)',
    ]);
    expect(page.querySelectorAll('ol.articles > li')[1]!.querySelector('.entry-head')!.textContent).toContain(
      'kept partial (model-unavailable)',
    );
  });

  it('has no problems section when nothing went wrong', () => {
    const clean = parsePage(renderDigestHtml({ report: report(), entries: entries.slice(0, 2) }));
    expect(clean.querySelector('.problems')).toBeNull();
  });

  it('sorts by status (problems first) and by language with radio buttons and CSS order, no script', () => {
    const radios = [...document.querySelectorAll('input[type=radio][name=sort]')];
    expect(radios.map((radio) => [radio.id, radio.hasAttribute('checked')])).toEqual([
      ['sort-input', true],
      ['sort-status', false],
      ['sort-language', false],
    ]);
    // The radios come before the list, so `~` reaches it.
    for (const radio of radios) expect(radio.parentElement!.querySelector(`#${radio.id} ~ ol.articles`)).not.toBeNull();
    for (const radio of radios) expect(document.querySelector(`label[for="${radio.id}"]`)).not.toBeNull();
    expect(items().map((item) => [item.getAttribute('data-status'), item.getAttribute('data-lang-rank')])).toEqual([
      ['ok', '0'],
      ['skipped', '1'],
      ['failed', '3'],
      ['partial', '2'],
    ]);
    const css = document.querySelector('style')!.textContent!;
    const order = (selector: string) => css.match(new RegExp(`${selector.replace(/[[\]()~>.#"-]/g, '\\$&')} \\{ order: (\\d+); \\}`))?.[1];
    expect(
      ['failed', 'partial', 'ok', 'skipped'].map((status) => order(`#sort-status:checked ~ .articles > [data-status="${status}"]`)),
    ).toEqual(['0', '1', '2', '3']);
    // Language codes in order (ar, vi), then undetermined (und), then not read.
    expect([0, 1, 2, 3].map((rank) => order(`#sort-language:checked ~ .articles > [data-lang-rank="${rank}"]`))).toEqual([
      '0',
      '1',
      '2',
      '3',
    ]);
  });
});

describe('renderDigestHtml with hostile ids and titles', () => {
  const nasty = '<script>alert(1)</script>\u202E<img src=x onerror=alert(2)>';
  const hostile: DigestEntry[] = [
    {
      id: 'javascript:alert(1)',
      status: 'ok',
      language: { lang: 'ar', confidence: 1 },
      title: { source: nasty, lang: 'ar', english: nasty },
      summary: [nasty],
      page: 'javascript:alert(1).html',
    },
    {
      id: `a/${nasty}?#`,
      status: 'failed',
      reason: 'binary',
      message: nasty,
      language: null,
      title: null,
      summary: [],
      page: `a/${nasty}?#.html`,
    },
  ];
  const document = parsePage(renderDigestHtml({ report: report([nasty]), entries: hostile }));

  it('has no executable markup and shows the text literally', () => {
    expect(executableMarkup(document)).toEqual([]);
    expect(document.body.textContent!.split(nasty).length - 1).toBeGreaterThanOrEqual(6);
  });

  it('links to pages by relative URLs that stay files in the output directory', () => {
    const hrefs = [...document.querySelectorAll('h3 a')].map((a) => a.getAttribute('href')!);
    expect(hrefs[0]).toBe('./javascript%3Aalert(1).html');
    const base = 'file:///srv/output/index.html';
    expect(hrefs.map((href) => decodeURIComponent(new URL(href, base).pathname))).toEqual([
      '/srv/output/javascript:alert(1).html',
      `/srv/output/a/${nasty}?#.html`,
    ]);
    expect(pageHref('news/001.html')).toBe('./news/001.html');
  });

  it('isolates every input text', () => {
    for (const node of textNodesContaining(document, '\u202E')) expect(isIsolated(node)).toBe(true);
  });
});
