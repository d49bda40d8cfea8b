import type { LanguageCode, ParagraphKind } from '../article.js';

/**
 * What an article's page, Markdown and digest entry are headed with. The title line, in the source and
 * in English; an article without one (the cleaner found no title-shaped line before its prose) is
 * headed by its first sentence, so a reader sees what it is about rather than its id, which the
 * outputs show next to the source path instead.
 */
export interface ArticleHeading {
  /** `title`: the title line (or the title alone, when its paragraph is gone); `first-sentence`; `id`: no sentence either. */
  from: 'title' | 'first-sentence' | 'id';
  /** In the source language (for `id`, the id). A first sentence is cut to `HEADING_MAX_CHARS`. */
  source: { text: string; lang: LanguageCode };
  /** Its English; null when it has none (not translated, or `id`). */
  english: string | null;
}

/** The parts of an article a heading reads: the article as the stages leave it, or its JSON output. */
export interface HeadedArticle {
  id: string;
  title: string | null;
  language: { lang: LanguageCode };
  paragraphs: readonly {
    kind: ParagraphKind;
    language: { lang: LanguageCode };
    sentences: readonly { source: string; target: string | null }[];
  }[];
}

/** Longest first sentence shown whole as a heading; a longer one is cut at a space before it, with `…`. */
export const HEADING_MAX_CHARS = 120;

export function articleHeading(article: HeadedArticle): ArticleHeading {
  const title = article.paragraphs.find((paragraph) => paragraph.kind === 'title');
  if (title) {
    const english = title.sentences.map((sentence) => sentence.target).filter((target) => target !== null);
    return {
      from: 'title',
      source: { text: title.sentences.map((sentence) => sentence.source).join(' '), lang: title.language.lang },
      english: english.length > 0 ? english.join(' ') : null,
    };
  }
  if (article.title !== null) return { from: 'title', source: { text: article.title, lang: article.language.lang }, english: null };
  for (const paragraph of article.paragraphs) {
    const first = paragraph.sentences[0];
    if (first === undefined) continue;
    return {
      from: 'first-sentence',
      source: { text: shortened(first.source), lang: paragraph.language.lang },
      english: first.target === null ? null : shortened(first.target),
    };
  }
  return { from: 'id', source: { text: article.id, lang: 'und' }, english: null };
}

/** The heading's text as one line: its English, else its source. */
export function headingText(heading: ArticleHeading): string {
  return heading.english ?? heading.source.text;
}

function shortened(text: string): string {
  const characters = [...text];
  if (characters.length <= HEADING_MAX_CHARS) return text;
  const cut = characters.slice(0, HEADING_MAX_CHARS).join('');
  const space = cut.search(/\s\S*$/u);
  return `${(space > 0 ? cut.slice(0, space) : cut).replace(/[\s,،;؛:]+$/u, '')}…`;
}
