import type { CleanParagraph, CleanedArticle, RemovedLine, SourceArticle } from '../article.js';

/**
 * Boilerplate removal by the shape of a line and where it stands, never by what a particular site
 * writes. Every non-empty line is a paragraph. The article's prose — lines that end like a sentence
 * and have a few words — marks out three zones:
 * - before the first full-stop paragraph or bullet (the header): the title (the longest
 *   title-shaped line), and around it logos, navigation and empty labels (`Date:`);
 * - after the last prose line (the footer): the run of share buttons, navigation, "read also"
 *   labels and the headlines they point to that ends the text;
 * - between them (the body): only lines that look like the headline of another article — no final
 *   stop, one clause, and much shorter than the paragraphs around them — are removed; subheads,
 *   captions and list items are short in a different way and stay.
 * Image placeholders are removed wherever they are, and so are lines seen in many articles of the
 * same run when the caller passes them (`repeatedLines`).
 */

export interface CleanOptions {
  /** Lines, as `normalizeLine` gives them, seen in many articles of the same run (see `findRepeatedLines`). */
  repeatedLines?: ReadonlySet<string>;
}

/** Removal reasons, as recorded in `RemovedLine.reason`. */
export type BoilerplateReason =
  | 'navigation'
  | 'empty-label'
  | 'image-placeholder'
  | 'button-text'
  | 'read-also'
  | 'related-headline'
  | 'injected-headline'
  | 'repeated-across-corpus';

/** A prose line ends with a stop, possibly inside closing quotes or brackets. */
const SENTENCE_END = /[.!?؟۔…]["'”’»)\]]*$/u;
/** A paragraph that ends with a full stop (not a question or exclamation, which a title may end with). */
const FULL_STOP_END = /[.۔…]["'”’»)\]]*$/u;
/** Any ending a headline does not have (a sentence stop, or a colon or semicolon that announces more). */
const NON_HEADLINE_END = /[.!?؟۔…:;؛,،]["'”’»)\]]*$/u;
/** A stop followed by more text: the line holds more than one sentence. */
const INNER_STOP = /[.!?؟۔][\s"'”’»]+\p{L}/u;
/** A clause break: a headline is one clause. */
const CLAUSE_BREAK = /[,،;؛]\s/u;
const BULLET = /^[-•*–·▪●]\s+/u;
/** Placeholder tokens a page left where an image was: `foo_img`, `img_1`, `[image]`. */
const IMAGE_PLACEHOLDER = /(?:\p{L}_(?:img|image|photo|pic)\b)|(?:\b(?:img|image|photo|pic)_\w)|\[(?:img|image|photo|picture)[^\]]*\]/iu;

/** Fewest words of a prose line; shorter punctuated lines are widget text, not paragraphs. */
const PROSE_MIN_WORDS = 5;
/** Most words of a title; a longer first line is a paragraph. */
const TITLE_MAX_WORDS = 30;
/** Most words of a navigation item or a logo. */
const NAVIGATION_MAX_WORDS = 4;
/** Most words of a button (`Share.`). */
const BUTTON_MAX_WORDS = 2;
/** Most words of a label (`Date:`, `Read also:`). */
const LABEL_MAX_WORDS = 3;
/** Fewest words and characters of another article's headline; subheads and list items are shorter. */
const HEADLINE_MIN_WORDS = 6;
const HEADLINE_MIN_CHARS = 45;
/** An injected headline is at most this share of the article's median prose paragraph. */
const HEADLINE_MAX_SHARE_OF_MEDIAN = 0.6;

interface Line {
  /** 1-based line number in the decoded text. */
  line: number;
  text: string;
  words: number;
  bullet: boolean;
  prose: boolean;
}

/** The form of a line used to match it across articles: trimmed, spaces collapsed, lower-cased. */
export function normalizeLine(text: string): string {
  return text.replace(/\s+/gu, ' ').trim().toLowerCase();
}

/** Lines that occur in at least `minArticles` of the given articles (once per article counted). */
export function findRepeatedLines(articles: readonly SourceArticle[], minArticles = 3): Set<string> {
  const seenIn = new Map<string, number>();
  for (const article of articles) {
    const lines = new Set(article.text.split('\n').map(normalizeLine).filter((line) => line !== ''));
    for (const line of lines) seenIn.set(line, (seenIn.get(line) ?? 0) + 1);
  }
  return new Set([...seenIn].filter(([, count]) => count >= minArticles).map(([line]) => line));
}

function toLines(text: string): Line[] {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.replace(/^[\s\u00a0]+|[\s\u00a0]+$/gu, '');
    if (trimmed === '') return;
    const bullet = BULLET.test(trimmed);
    const words = trimmed.split(/\s+/u).length;
    lines.push({
      line: index + 1,
      text: trimmed,
      words,
      bullet,
      prose: !bullet && words >= PROSE_MIN_WORDS && SENTENCE_END.test(trimmed),
    });
  });
  return lines;
}

function isHeadlineShaped(line: Line): boolean {
  return !line.bullet && !NON_HEADLINE_END.test(line.text) && !INNER_STOP.test(line.text);
}

/** A title: three to thirty words, not ending as a statement, a label or a list does. */
function isTitleShaped(line: Line): boolean {
  return !line.bullet && line.words >= 3 && line.words <= TITLE_MAX_WORDS && !/[.:：;؛,،]["'”’»)\]]*$/u.test(line.text);
}

function isEmptyLabel(line: Line): boolean {
  return !line.bullet && line.words <= LABEL_MAX_WORDS && /[:：]$/u.test(line.text);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One clause with no stop and no aside in brackets (which captions have: "(left)", "(photo: …)"). */
function isOneClauseHeadline(line: Line): boolean {
  return isHeadlineShaped(line) && !CLAUSE_BREAK.test(line.text) && !/[()]/u.test(line.text);
}

/** A headline of another article set between two paragraphs of this one. */
function isInjectedHeadline(line: Line, before: Line | undefined, after: Line | undefined, medianProse: number): boolean {
  return (
    isOneClauseHeadline(line) &&
    line.words >= HEADLINE_MIN_WORDS &&
    line.text.length >= HEADLINE_MIN_CHARS &&
    line.text.length <= HEADLINE_MAX_SHARE_OF_MEDIAN * medianProse &&
    (before === undefined || line.text.length < before.text.length) &&
    (after === undefined || line.text.length < after.text.length)
  );
}

/** The article's lines as paragraphs with nothing removed and no title, for runs with cleaning off. */
export function keepAllLines(article: SourceArticle): CleanedArticle {
  const paragraphs: CleanParagraph[] = toLines(article.text).map((line) =>
    line.bullet
      ? { line: line.line, kind: 'bullet', text: line.text.replace(BULLET, '') }
      : { line: line.line, kind: 'body', text: line.text },
  );
  return { ...article, title: null, paragraphs, removed: [] };
}

export function removeBoilerplate(article: SourceArticle, options: CleanOptions = {}): CleanedArticle {
  const lines = toLines(article.text);
  const reasons = new Map<number, BoilerplateReason>();
  const remove = (index: number, reason: BoilerplateReason) => {
    if (!reasons.has(index)) reasons.set(index, reason);
  };

  lines.forEach((line, i) => {
    if (options.repeatedLines?.has(normalizeLine(line.text))) remove(i, 'repeated-across-corpus');
    else if (IMAGE_PLACEHOLDER.test(line.text) && line.words <= NAVIGATION_MAX_WORDS) remove(i, 'image-placeholder');
  });

  const contentIndices = lines.map((line, i) => (line.prose || line.bullet ? i : -1)).filter((i) => i >= 0);
  let titleIndex: number | undefined;
  if (contentIndices.length > 0) {
    // A title may end with `?` or `!`, so the body starts at the first bullet or full-stop paragraph.
    const fullStop = lines.findIndex((line) => line.bullet || (line.prose && FULL_STOP_END.test(line.text)));
    const first = fullStop >= 0 ? fullStop : contentIndices[0]!;
    const last = contentIndices[contentIndices.length - 1]!;

    // Header: the longest title-shaped line is the title.
    for (let i = 0; i < first; i++) {
      const line = lines[i]!;
      if (reasons.has(i) || !isTitleShaped(line)) continue;
      if (titleIndex === undefined || line.text.length > lines[titleIndex]!.text.length) titleIndex = i;
    }
    for (let i = 0; i < first; i++) {
      const line = lines[i]!;
      if (i === titleIndex || reasons.has(i)) continue;
      if (isEmptyLabel(line)) remove(i, 'empty-label');
      else if (line.words <= NAVIGATION_MAX_WORDS && !SENTENCE_END.test(line.text)) remove(i, 'navigation');
    }

    // Footer: the run of boilerplate at the very end, read backwards; a line that is not
    // boilerplate-shaped (a line-up, a quote) ends it, and what stands before it stays.
    const medianProse = median(lines.filter((line) => line.prose).map((line) => line.text.length));
    for (let i = lines.length - 1; i > last; i--) {
      const line = lines[i]!;
      if (reasons.has(i)) continue;
      const previous = lines[i - 1];
      if (isEmptyLabel(line)) {
        remove(i, 'empty-label');
      } else if (line.words <= BUTTON_MAX_WORDS && SENTENCE_END.test(line.text)) {
        remove(i, 'button-text');
      } else if (line.words <= NAVIGATION_MAX_WORDS && isHeadlineShaped(line)) {
        remove(i, 'navigation');
      } else if (isOneClauseHeadline(line) && line.text.length <= HEADLINE_MAX_SHARE_OF_MEDIAN * medianProse) {
        if (previous && i - 1 > last && isEmptyLabel(previous)) {
          remove(i, 'related-headline');
          remove(i - 1, 'read-also');
          i--;
        } else {
          remove(i, 'related-headline');
        }
      } else {
        break;
      }
    }

    // Body: headlines of other articles, alone or under a "read also" label.
    for (let i = first + 1; i < last; i++) {
      const line = lines[i]!;
      if (reasons.has(i) || line.prose) continue;
      const next = lines[i + 1];
      if (isEmptyLabel(line) && next && isInjectedHeadline(next, undefined, lines[i + 2], medianProse)) {
        remove(i, 'read-also');
        remove(i + 1, 'related-headline');
      } else if (isInjectedHeadline(line, lines[i - 1], next, medianProse)) {
        remove(i, 'injected-headline');
      }
    }
  }

  const paragraphs: CleanParagraph[] = [];
  const removed: RemovedLine[] = [];
  lines.forEach((line, i) => {
    const reason = reasons.get(i);
    if (reason) removed.push({ line: line.line, text: line.text, reason });
    else if (i === titleIndex) paragraphs.push({ line: line.line, kind: 'title', text: line.text });
    else if (line.bullet) paragraphs.push({ line: line.line, kind: 'bullet', text: line.text.replace(BULLET, '') });
    else paragraphs.push({ line: line.line, kind: 'body', text: line.text });
  });
  const title = titleIndex === undefined ? null : lines[titleIndex]!.text;
  return { ...article, title, paragraphs, removed };
}
