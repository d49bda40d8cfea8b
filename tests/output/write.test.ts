import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import MarkdownIt from 'markdown-it';
import { z } from 'zod';
import type { SummarizedArticle } from '../../src/article.js';
import { articleOutputSchema, manifestLineSchema } from '../../src/output/schema.js';
import { articleJsonText, renderArticleJson, type ArticleMeta } from '../../src/output/json.js';
import { manifestLine, outputFileNames } from '../../src/output/manifest.js';
import { renderArticleMarkdown } from '../../src/output/markdown.js';
import { removeStaleTempFiles, writeFileAtomic } from '../../src/output/atomic-write.js';
import { repoRoot } from '../../tools/repo-root.js';
import { arabicArticle, untranslatedArabicArticle } from '../fixtures/summarized-article.js';
import { OutputError } from '../../src/errors.js';
import { BOILERPLATE_REASONS, DROPPED_BLOCK_REASONS } from '../../src/article.js';

const meta: ArticleMeta = {
  status: 'ok',
  models: [{ lang: 'ar', id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8', weights: 'cd'.repeat(32) }],
  timings: { read: 1.234, clean: 0.5, translate: 812.06 },
  fingerprint: 'ab'.repeat(32),
};

/** The published JSON Schema file, as a validator independent of the zod schema it came from. */
async function publishedSchema(name: string): Promise<z.ZodType> {
  return z.fromJSONSchema(JSON.parse(await readFile(join(repoRoot, 'schema', name), 'utf8')) as z.core.JSONSchema.JSONSchema);
}

describe('renderArticleJson', () => {
  it('has the schema version, source, language, title, removed lines, translation, models and timings', () => {
    const json = renderArticleJson(arabicArticle(), meta);
    expect(json).toMatchObject({
      schemaVersion: 1,
      id: 'news/001',
      status: 'ok',
      source: { path: 'input/news/001.txt', bytes: 512, encoding: 'windows-1256', sha256: 'a'.repeat(64) },
      language: { lang: 'ar', confidence: 0.98 },
      title: 'اليابان تعزز التعاون العسكري',
      removed: [
        { line: 2, text: 'شارك على فيسبوك', reason: 'navigation' },
        { line: 5, text: 'اقرأ أيضا: خبر آخر', reason: 'read-also' },
      ],
      translation: { status: 'translated' },
      models: meta.models,
      timings: { read: 1.2, clean: 0.5, translate: 812.1 },
    });
    expect(json).not.toHaveProperty('reason');
    expect(json).not.toHaveProperty('text');
  });

  it('keeps paragraphs with their sentences, targets and flags', () => {
    const json = renderArticleJson(arabicArticle(), meta);
    expect(json.paragraphs.map((paragraph) => [paragraph.line, paragraph.kind, paragraph.language.lang, paragraph.flags])).toEqual([
      [1, 'title', 'ar', []],
      [3, 'bullet', 'ar', []],
      [4, 'body', 'ar', []],
      [6, 'body', 'en', ['foreign-language']],
    ]);
    expect(json.paragraphs[2]?.sentences[1]).toEqual({
      source: 'وأضاف أن الزيارة مهمة؟',
      target: 'He added that the visit is important?',
      flags: ['length-ratio'],
    });
    expect(json.paragraphs[2]).not.toHaveProperty('text');
  });

  it('gives the summary as sentence indices and aligned pairs', () => {
    const json = renderArticleJson(arabicArticle(), meta);
    expect(json.summary.indices).toEqual([2, 4]);
    const sentences = json.paragraphs.flatMap((paragraph) => paragraph.sentences);
    expect(json.summary.pairs).toEqual(
      json.summary.indices.map((index) => ({ source: sentences[index]?.source, target: sentences[index]?.target })),
    );
  });

  it('says why an article is partial and keeps null targets', () => {
    const json = renderArticleJson(untranslatedArabicArticle(), { ...meta, status: 'partial', reason: 'model-unavailable', models: [] });
    expect(json.status).toBe('partial');
    expect(json.reason).toBe('model-unavailable');
    expect(json.translation).toEqual({
      status: 'model-unavailable',
      message: 'model Xenova/opus-mt-ar-en is not in models/; run `newsbridge models pull`',
    });
    expect(json.paragraphs[2]?.sentences.map((sentence) => sentence.target)).toEqual([null, null]);
  });

  it('is valid against the zod schema and the published schema/article.schema.json', async () => {
    const published = await publishedSchema('article.schema.json');
    for (const json of [
      JSON.parse(articleJsonText(renderArticleJson(arabicArticle(), meta))) as unknown,
      renderArticleJson(untranslatedArabicArticle(), { ...meta, status: 'partial', reason: 'model-unavailable' }),
    ]) {
      expect(articleOutputSchema.safeParse(json).success).toBe(true);
      expect(published.safeParse(json).success).toBe(true);
    }
    const broken = { ...renderArticleJson(arabicArticle(), meta), schemaVersion: 2 };
    expect(published.safeParse(broken).success).toBe(false);
  });

  it('allows only the removal reasons the clean stage gives, in the zod schema and the published one', async () => {
    const published = await publishedSchema('article.schema.json');
    const json = renderArticleJson(arabicArticle(), meta);
    for (const reason of BOILERPLATE_REASONS) {
      const valid = { ...json, removed: [{ line: 2, text: 'x', reason }] };
      expect(articleOutputSchema.safeParse(valid).success).toBe(true);
      expect(published.safeParse(valid).success).toBe(true);
    }
    const unknown = { ...json, removed: [{ line: 2, text: 'x', reason: 'share-button' }] };
    expect(articleOutputSchema.safeParse(unknown).success).toBe(false);
    expect(published.safeParse(unknown).success).toBe(false);
  });

  it('allows only the block reasons the HTML reader gives in page.removed, in the zod schema and the published one', async () => {
    const published = await publishedSchema('article.schema.json');
    const json = renderArticleJson(arabicArticle(), meta);
    const page = (reason: string) => ({
      ...json,
      page: {
        title: null,
        byline: null,
        published: null,
        canonicalUrl: null,
        siteName: null,
        lang: null,
        extraction: 'readability',
        removed: [{ text: 'x', reason }],
      },
    });
    for (const reason of DROPPED_BLOCK_REASONS) {
      expect(articleOutputSchema.safeParse(page(reason)).success).toBe(true);
      expect(published.safeParse(page(reason)).success).toBe(true);
    }
    expect(articleOutputSchema.safeParse(page('share-button')).success).toBe(false);
    expect(published.safeParse(page('share-button')).success).toBe(false);
  });

  it('is written pretty-printed and newline-terminated, as it was rendered', () => {
    const json = renderArticleJson(arabicArticle(), meta);
    const text = articleJsonText(json);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')[1]).toBe('  "schemaVersion": 1,');
    expect(JSON.parse(text)).toEqual(json);
  });
});

describe('renderArticleMarkdown', () => {
  const markdown = renderArticleMarkdown(arabicArticle());

  it('opens with the title in Arabic, right-to-left, then in English', () => {
    expect(markdown.startsWith('<div dir="rtl" lang="ar">\n\n# اليابان تعزز التعاون العسكري\n\n</div>')).toBe(true);
    expect(markdown).toContain('<div dir="ltr" lang="en">\n\n# Japan strengthens military cooperation\n\n</div>');
  });

  it('titles an article without a title paragraph by its title in its direction', () => {
    const article = arabicArticle();
    const withoutTitleParagraph = { ...article, paragraphs: article.paragraphs.filter((paragraph) => paragraph.kind !== 'title') };
    expect(
      renderArticleMarkdown(withoutTitleParagraph).startsWith('<div dir="rtl" lang="ar">\n\n# اليابان تعزز التعاون العسكري\n\n</div>'),
    ).toBe(true);
  });

  it('titles an article without a title line by the English of its first sentence, else its source, else its id; the id is in the details (issue 18)', () => {
    const untitled = (article: SummarizedArticle): SummarizedArticle => ({
      ...article,
      id: '000_d3c511104db8d652',
      title: null,
      paragraphs: article.paragraphs.filter((paragraph) => paragraph.kind === 'body'),
    });
    const translated = renderArticleMarkdown(untitled(arabicArticle()));
    expect(
      translated.startsWith('<div dir="ltr" lang="en">\n\n# The prime minister said he wants to strengthen cooperation.\n\n</div>'),
    ).toBe(true);
    expect(translated).toMatch(/^> Article 000\\_d3c511104db8d652 · Source: /mu);
    expect(
      renderArticleMarkdown(untitled(untranslatedArabicArticle())).startsWith(
        '<div dir="rtl" lang="ar">\n\n# قال رئيس الوزراء إنه يريد تعزيز التعاون.\n\n</div>',
      ),
    ).toBe(true);
    const empty = { ...untitled(arabicArticle()), paragraphs: [], summary: { indices: [], pairs: [] } };
    expect(renderArticleMarkdown(empty).startsWith('# 000\\_d3c511104db8d652\n')).toBe(true);
  });

  it('puts the summary first, each pair as the source then the English', () => {
    const summary = markdown.indexOf('## Summary');
    const article = markdown.indexOf('## Article');
    expect(summary).toBeGreaterThan(0);
    expect(summary).toBeLessThan(article);
    const summaryPart = markdown.slice(summary, article);
    const source = summaryPart.indexOf('<div dir="rtl" lang="ar">\n\n1. قال رئيس الوزراء إنه يريد تعزيز التعاون.');
    const english = summaryPart.indexOf('<div dir="ltr" lang="en">\n\n1. The prime minister said he wants to strengthen cooperation.');
    expect(source).toBeGreaterThan(0);
    expect(english).toBeGreaterThan(source);
  });

  it('wraps every Arabic paragraph in a right-to-left block and its English in a left-to-right one', () => {
    const body = markdown.slice(markdown.indexOf('## Article'));
    expect(body).toContain(
      '<div dir="rtl" lang="ar">\n\nقال رئيس الوزراء إنه يريد تعزيز التعاون. وأضاف أن الزيارة مهمة؟\n\n</div>\n\n' +
        '<div dir="ltr" lang="en">\n\nThe prime minister said he wants to strengthen cooperation. He added that the visit is important?\n\n</div>',
    );
    expect(body).toContain('<div dir="rtl" lang="ar">\n\n- زيارة إلى واشنطن الأسبوع المقبل\n\n</div>');
    expect(body).toContain('<div dir="ltr" lang="en">\n\n- A visit to Washington next week\n\n</div>');
  });

  it('shows an English quote once, left-to-right, marked as kept', () => {
    const quote = '<div dir="ltr" lang="en">\n\n"We are ready," the minister said.\n\n</div>';
    const body = markdown.slice(markdown.indexOf('## Article'));
    expect(body.split(quote)).toHaveLength(2);
    expect(body).toContain(`${quote}\n\n_(kept as it is: not in the article’s language)_`);
  });

  it('lists the removed lines with their reasons', () => {
    expect(markdown).toContain('- line 2 (navigation): شارك على فيسبوك');
  });

  it('marks what could not be translated, and why', () => {
    const untranslated = renderArticleMarkdown(untranslatedArabicArticle());
    expect(untranslated).toContain('<div dir="ltr" lang="en">\n\n1. _(translation unavailable: model-unavailable)_\n\n</div>');
    expect(untranslated).toContain('<div dir="ltr" lang="en">\n\n_(translation unavailable: model-unavailable)_\n\n</div>');
    expect(untranslated).toContain('translation: model-unavailable');
    expect(untranslated).toContain('run \\`newsbridge models pull\\`');
  });

  it('marks a single untranslated sentence inside a translated paragraph', () => {
    const article = arabicArticle();
    const paragraph = article.paragraphs[2]!;
    paragraph.sentences[1] = { ...paragraph.sentences[1]!, target: null };
    expect(renderArticleMarkdown(article)).toContain(
      'The prime minister said he wants to strengthen cooperation. _(untranslated)_\n\n</div>',
    );
  });

  it('escapes Markdown and HTML in article text so it cannot break the blocks', () => {
    const article = arabicArticle();
    const paragraph = article.paragraphs[2]!;
    article.paragraphs[2] = {
      ...paragraph,
      text: '# <b>قال</b> *الوزير*',
      sentences: [{ source: '# <b>قال</b> *الوزير*', target: '</div> *the minister*', flags: [] }],
    };
    const rendered = renderArticleMarkdown(article);
    expect(rendered).toContain('\\# \\<b\\>قال\\</b\\> \\*الوزير\\*');
    expect(rendered).toContain('\\</div\\> \\*the minister\\*');
  });
});

describe('manifestLine', () => {
  it('is one JSON line with id, source, outputs, language, status and the English summary', async () => {
    const line = manifestLine({
      id: 'news/001',
      source: 'input/news/001.txt',
      status: 'ok',
      outputs: outputFileNames('news/001', ['json', 'md']),
      article: arabicArticle(),
    });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const parsed = JSON.parse(line) as unknown;
    expect(parsed).toEqual({
      id: 'news/001',
      source: 'input/news/001.txt',
      status: 'ok',
      outputs: { json: 'news/001.json', md: 'news/001.md' },
      language: { lang: 'ar', confidence: 0.98 },
      summary: ['The prime minister said he wants to strengthen cooperation.', '"We are ready," the minister said.'],
    });
    expect(manifestLineSchema.safeParse(parsed).success).toBe(true);
    expect((await publishedSchema('manifest.schema.json')).safeParse(parsed).success).toBe(true);
  });

  it('describes a failed article with its reason and no outputs', async () => {
    const parsed = JSON.parse(
      manifestLine({ id: 'photo', source: 'input/photo.txt', status: 'failed', reason: 'binary', outputs: {} }),
    ) as unknown;
    expect(parsed).toEqual({
      id: 'photo',
      source: 'input/photo.txt',
      status: 'failed',
      reason: 'binary',
      outputs: {},
      language: null,
      summary: [],
    });
    expect((await publishedSchema('manifest.schema.json')).safeParse(parsed).success).toBe(true);
  });
});

describe('writeFileAtomic', () => {
  it('writes the file, creating its directory, and leaves no temp file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'newsbridge-write-'));
    const target = join(directory, 'news', '001.json');
    await writeFileAtomic(target, '{"a":1}\n');
    await writeFileAtomic(target, '{"a":2}\n');
    expect(await readFile(target, 'utf8')).toBe('{"a":2}\n');
    expect(await readdir(join(directory, 'news'))).toEqual(['001.json']);
  });

  it('fails cleanly into a directory it cannot write: the old content stays, no temp file', async () => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions; a path under a regular file fails the same way (ENOTDIR).
      const directory = await mkdtemp(join(tmpdir(), 'newsbridge-write-'));
      await writeFile(join(directory, 'file'), 'x');
      const error = await writeFileAtomic(join(directory, 'file', 'a.json'), 'data').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OutputError);
      expect((error as OutputError).message).toMatch(
        /^cannot write .*file\/a\.json: .*; part of the output path is a file, not a directory; choose another output directory with --output$/,
      );
      expect(await readdir(directory)).toEqual(['file']);
      return;
    }
    const directory = await mkdtemp(join(tmpdir(), 'newsbridge-write-'));
    const target = join(directory, 'a.json');
    await writeFile(target, 'old');
    await chmod(directory, 0o555);
    try {
      const error = await writeFileAtomic(target, 'new').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OutputError);
      expect((error as OutputError).code).toBe('EACCES');
      expect((error as OutputError).message).toContain('make the output directory writable or choose another with --output');
    } finally {
      await chmod(directory, 0o755);
    }
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(directory)).toEqual(['a.json']);
  });

  it('never shows a half-written target to a reader while writing a large file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'newsbridge-write-'));
    const target = join(directory, 'big.json');
    const before = 'a'.repeat(1024);
    const after = 'b'.repeat(8 * 1024 * 1024);
    await writeFile(target, before);
    const seen = new Set<number>();
    let writing = true;
    const reader = (async () => {
      while (writing) seen.add((await readFile(target)).length);
    })();
    await writeFileAtomic(target, after);
    writing = false;
    await reader;
    seen.add((await readFile(target)).length);
    expect([...seen].every((length) => length === before.length || length === after.length)).toBe(true);
    expect(seen.has(after.length)).toBe(true);
  });

  it('removeStaleTempFiles removes what a killed run left, and only that', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'newsbridge-write-'));
    await writeFileAtomic(join(directory, 'sub', 'kept.json'), '{}');
    const stale = join(directory, 'sub', '.kept.json.12345.0badc0de.tmp');
    await writeFile(stale, '{');
    await writeFile(join(directory, 'notes.tmp'), 'user file');
    expect(await removeStaleTempFiles(directory)).toEqual([stale]);
    expect((await readdir(join(directory, 'sub'))).sort()).toEqual(['kept.json']);
    expect((await readdir(directory)).sort()).toEqual(['notes.tmp', 'sub']);
    expect(await removeStaleTempFiles(join(directory, 'missing'))).toEqual([]);
  });
});

describe('renderArticleMarkdown: what comes from a path or an input stays text', () => {
  const markdown = new MarkdownIt({ html: true });
  const hostileNames = [
    'input/x`<img src=x onerror=alert(1)>`.txt',
    'input/x\n<script>alert(1)</script>\n.txt',
    'input/[click](javascript:alert(1)) <b>bold</b> *x*.txt',
  ];

  for (const name of hostileNames) {
    it(`renders the source line of ${JSON.stringify(name)} as plain text`, () => {
      const article = { ...arabicArticle(), id: name.replace(/^input\//, '').replace(/\.txt$/, ''), title: null };
      article.source = { ...article.source, path: name };
      article.translation = { ...article.translation, message: `${name}: model unavailable\n<iframe src=x>` };
      const html = markdown.render(renderArticleMarkdown(article));
      expect(html).not.toMatch(/<(img|script|iframe|b)\b/);
      expect(html).not.toMatch(/href="javascript:/);
      // The details line and the message are one blockquote of plain text: no markup of any kind.
      const quote = /<blockquote>[\s\S]*?<\/blockquote>/.exec(html)?.[0] ?? '';
      expect(quote).toContain('Source: input/');
      expect(quote.replace(/<\/?(blockquote|p)>/g, '')).not.toMatch(/<[a-z]/);
    });
  }
});
