import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceArticle } from '../../src/article.js';
import { findRepeatedLines, keepAllLines, normalizeLine, removeBoilerplate, siteOf } from '../../src/stages/clean.js';

function article(text: string, id = 'test'): SourceArticle {
  return { id, source: { path: `${id}.txt`, bytes: Buffer.byteLength(text), encoding: 'utf-8', sha256: '' }, text };
}

/** An article of a site: read from the folder `site`. */
function siteArticle(site: string, n: number, lines: string[]): SourceArticle {
  return article(lines.join('\n'), `${site}/${n}`);
}

function seed(name: string): SourceArticle {
  return article(readFileSync(path.resolve('input', name), 'utf8'), name);
}

/** Prose paragraphs of a given size, so a test controls the lengths around the line under test. */
function prose(n: number, words = 30): string {
  return `${Array.from({ length: words }, (_, i) => `word${n}x${i}`).join(' ')}.`;
}

describe('removeBoilerplate on the seed articles (labels of ../shared/data/seeds-gold.json)', () => {
  const expected: Record<string, { drop: number[]; title: number | null }> = {
    '000_d3c511104db8d652.txt': { drop: [4], title: null },
    '001_50f76b988ce1c267.txt': { drop: [7], title: null },
    '002_6d08277afabc9342.txt': { drop: [35], title: null },
    '003_fd0c407405ad6b11.txt': { drop: [10, 11], title: null },
    '004_218d8854b8495f3e.txt': { drop: [1, 5, 37, 39, 41], title: 3 },
  };
  for (const [name, gold] of Object.entries(expected)) {
    it(`${name}: removes exactly lines ${gold.drop.join(', ')}`, () => {
      const cleaned = removeBoilerplate(seed(name));
      expect(cleaned.removed.map((r) => r.line)).toEqual(gold.drop);
      expect(cleaned.paragraphs.find((p) => p.kind === 'title')?.line ?? null).toBe(gold.title);
    });
  }

  it('keeps the bullet highlights of 001 as bullets, without their markers', () => {
    const cleaned = removeBoilerplate(seed('001_50f76b988ce1c267.txt'));
    const bullets = cleaned.paragraphs.filter((p) => p.kind === 'bullet');
    expect(bullets.map((p) => p.line)).toEqual([1, 2, 3]);
    expect(bullets[0]!.text.startsWith('وحث السفير')).toBe(true);
  });

  it('gives 004 its title and the reason for each removed line', () => {
    const cleaned = removeBoilerplate(seed('004_218d8854b8495f3e.txt'));
    expect(cleaned.title).toBe('Tận dụng tối đa hợp tác công nghiệp quốc phòng Nhật-Mỹ');
    expect(cleaned.removed.map((r) => [r.line, r.reason])).toEqual([
      [1, 'navigation'],
      [5, 'empty-label'],
      [37, 'image-placeholder'],
      [39, 'navigation'],
      [41, 'image-placeholder'],
    ]);
  });
});

describe('removeBoilerplate by line shape', () => {
  it('removes a headline of another article set between paragraphs, and says why', () => {
    const text = [prose(1), prose(2), 'Minister visits the northern province to open a new bridge today', prose(3), prose(4)].join('\n');
    const cleaned = removeBoilerplate(article(text));
    expect(cleaned.removed).toEqual([
      { line: 3, text: 'Minister visits the northern province to open a new bridge today', reason: 'injected-headline' },
    ]);
    expect(cleaned.paragraphs).toHaveLength(4);
  });

  it('keeps short subheads, captions with asides and list items between paragraphs', () => {
    const text = [
      prose(1),
      'Garlic',
      prose(2),
      'The striker (left) celebrates after the winning goal tonight',
      prose(3),
      'Key facts',
      prose(4),
    ].join('\n');
    expect(removeBoilerplate(article(text)).removed).toEqual([]);
  });

  it('keeps an unpunctuated line as long as the paragraphs around it', () => {
    const long = `This paragraph has no final stop but it is as long as the others around it ${'and keeps going '.repeat(8)}`;
    const text = [prose(1, 20), long.trim(), prose(2, 20)].join('\n');
    expect(removeBoilerplate(article(text)).removed).toEqual([]);
  });

  it('removes a "read also" label and the headline it points to, at the end', () => {
    const text = [prose(1), prose(2), 'Read also:', 'Two neighbours sign a new defence pact amid rising tension'].join('\n');
    expect(removeBoilerplate(article(text)).removed.map((r) => [r.line, r.reason])).toEqual([
      [3, 'read-also'],
      [4, 'related-headline'],
    ]);
  });

  it('removes a share button, navigation and an image placeholder after the last paragraph', () => {
    const text = [prose(1), prose(2), '', 'Share.', 'Latest news', 'hero_img'].join('\n');
    expect(removeBoilerplate(article(text)).removed.map((r) => [r.line, r.reason])).toEqual([
      [4, 'button-text'],
      [5, 'navigation'],
      [6, 'image-placeholder'],
    ]);
  });

  it('stops the footer at a line that is not boilerplate, keeping what stands before it', () => {
    const text = [prose(1), prose(2), 'Starting line-up', 'Home: Keeper, Back, Back, Midfield, Forward', 'Share.'].join('\n');
    const cleaned = removeBoilerplate(article(text));
    expect(cleaned.removed.map((r) => r.line)).toEqual([5]);
    expect(cleaned.paragraphs.map((p) => p.line)).toEqual([1, 2, 3, 4]);
  });

  it('finds the title among logo, navigation and date label before the first paragraph', () => {
    const text = ['Site Logo', 'A city reopens its harbour after the storm passes', 'Date:', prose(1), prose(2)].join('\n');
    const cleaned = removeBoilerplate(article(text));
    expect(cleaned.title).toBe('A city reopens its harbour after the storm passes');
    expect(cleaned.paragraphs[0]).toEqual({ line: 2, kind: 'title', text: 'A city reopens its harbour after the storm passes' });
    expect(cleaned.removed.map((r) => [r.line, r.reason])).toEqual([
      [1, 'navigation'],
      [3, 'empty-label'],
    ]);
  });

  it('takes a question as the title', () => {
    const cleaned = removeBoilerplate(article(['Why does the harbour close every winter?', prose(1), prose(2)].join('\n')));
    expect(cleaned.title).toBe('Why does the harbour close every winter?');
  });

  it('has no title when the text starts with a paragraph', () => {
    expect(removeBoilerplate(article([prose(1), prose(2)].join('\n'))).title).toBeNull();
  });

  it('keeps bullets of every marker kind, even without a final stop', () => {
    const text = ['- first highlight', '• second highlight', '* third highlight', prose(1)].join('\n');
    const cleaned = removeBoilerplate(article(text));
    expect(cleaned.paragraphs.map((p) => [p.kind, p.text])).toEqual([
      ['bullet', 'first highlight'],
      ['bullet', 'second highlight'],
      ['bullet', 'third highlight'],
      ['body', prose(1)],
    ]);
  });

  it('keeps every line of an article with no prose, as it cannot tell', () => {
    const cleaned = removeBoilerplate(article('one line\nanother line'));
    expect(cleaned.removed).toEqual([]);
    expect(cleaned.paragraphs.map((p) => p.text)).toEqual(['one line', 'another line']);
  });
});

describe('lines repeated across the articles of a site', () => {
  const plug = 'Subscribe to our newsletter to read the news first every morning.';
  const credit = 'Photo: Reuters';
  /** `count` distinct stories of one site, each with a title, three paragraphs and the site's plug. */
  const night = (site: string, extra: (n: number) => string[] = () => [], count = 6) =>
    Array.from({ length: count }, (_, i) => i + 1).map((n) =>
      siteArticle(site, n, [`Headline number ${n} of the night`, prose(n), ...extra(n), prose(n + 10), prose(n + 20), plug]),
    );

  it('finds a line in every article of a site, and removes it from each, with nothing else', () => {
    const articles = night('site-a');
    const repeated = findRepeatedLines(articles);
    expect(repeated).toEqual({ 'site-a': [normalizeLine(plug)] });
    for (const a of articles) {
      const cleaned = removeBoilerplate(a, { repeatedLines: repeated });
      expect(cleaned.removed).toEqual([{ line: 5, text: plug, reason: 'repeated-across-corpus' }]);
      expect(cleaned.title).toBe(removeBoilerplate(a).title);
    }
  });

  it("counts a site as the folder its articles come from: one site's lines are not removed from another", () => {
    const other = [1, 2].map((n) => siteArticle('site-b', n, [prose(n + 40), credit, plug]));
    const repeated = findRepeatedLines([...night('site-a', (n) => (n <= 2 ? [credit] : [])), ...other]);
    expect(repeated).toEqual({ 'site-a': [normalizeLine(plug)] });
    expect(removeBoilerplate(other[0]!, { repeatedLines: repeated }).removed).toEqual([]);
    expect(siteOf(other[0]!)).toBe('site-b');
    expect(siteOf(article('text', 'flat'))).toBe('.');
  });

  it('needs a short line in three stories, and a sentence in half of them', () => {
    const quote = 'The minister said the harbour would reopen on Monday morning.';
    // Three of eight stories: the short credit is the site's, the sentence may be one quote they share.
    const articles = night('s', (n) => (n <= 3 ? [credit, quote] : []), 8);
    expect(findRepeatedLines(articles).s).toEqual([normalizeLine(credit), normalizeLine(plug)]);
    expect(findRepeatedLines(articles.slice(1)).s).toEqual([normalizeLine(plug)]);
    // In half of the stories the sentence is the site's.
    expect(findRepeatedLines(night('s', (n) => (n <= 4 ? [quote] : []), 8)).s).toEqual([normalizeLine(plug), normalizeLine(quote)]);
  });

  it('counts versions of one story (or one file under two names) once', () => {
    const story = [`Headline of the update`, prose(1), prose(2), prose(3), prose(4)];
    const versions = [1, 2, 3, 4].map((n) => siteArticle('s', n, [...story, `${prose(100 + n)}`]));
    expect(findRepeatedLines(versions)).toEqual({});
    const copies = [1, 2, 3].map((n) => siteArticle('s', n, [credit, prose(1), prose(2)]));
    expect(findRepeatedLines(copies)).toEqual({});
  });

  it("keeps the headline of one story that the site's other articles link to, and removes a line heading many", () => {
    const linked = 'Headline number 1 of the night';
    const articles = night('s', (n) => (n > 1 && n <= 4 ? [linked] : []));
    expect(findRepeatedLines(articles).s).toEqual([normalizeLine(plug)]);
    expect(removeBoilerplate(articles[0]!, { repeatedLines: findRepeatedLines(articles) }).title).toBe(linked);

    const banner = 'The Harbour Times, the news of the coast since 1901';
    const bannered = night('s').map((a) => ({ ...a, text: `${banner}\n${a.text}` }));
    const repeated = findRepeatedLines(bannered);
    expect(repeated.s).toEqual([normalizeLine(plug), normalizeLine(banner)].sort());
    const cleaned = removeBoilerplate(bannered[2]!, { repeatedLines: repeated });
    expect(removeBoilerplate(bannered[2]!).title).toBe(banner);
    expect(cleaned.title).toBe('Headline number 3 of the night');
    expect(cleaned.removed.map((r) => r.text)).toEqual([banner, plug]);
  });

  it("draws the zones without the site's lines: a plug at the top leaves the header and the title as they were", () => {
    const articles = night('s').map((a) => ({ ...a, text: `${plug}\n${a.text.replace(`\n${plug}`, '')}` }));
    const repeated = findRepeatedLines(articles);
    const cleaned = removeBoilerplate(articles[0]!, { repeatedLines: repeated });
    expect(cleaned.title).toBe('Headline number 1 of the night');
    expect(cleaned.removed).toEqual([{ line: 1, text: plug, reason: 'repeated-across-corpus' }]);
  });
});

describe('keepAllLines', () => {
  it('makes every non-empty line a paragraph, removing nothing (cleaning turned off)', () => {
    const cleaned = keepAllLines(seed('004_218d8854b8495f3e.txt'));
    expect(cleaned.removed).toEqual([]);
    expect(cleaned.title).toBeNull();
    expect(cleaned.paragraphs.map((p) => p.line).slice(0, 4)).toEqual([1, 3, 5, 7]);
    expect(cleaned.paragraphs).toHaveLength(21);
    expect(keepAllLines(article('- a highlight\nbody text')).paragraphs.map((p) => p.kind)).toEqual(['bullet', 'body']);
  });
});
