import type { BoilerplateReason, CleanParagraph, CleanedArticle, RemovedLine, SourceArticle } from '../article.js';

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
 * Image placeholders are removed wherever they are, and so are lines repeated across the articles of
 * the same site in the run when the caller passes them (`repeatedLines`, see `findRepeatedLines`).
 */

/**
 * Lines repeated across a run's articles, by site (`siteOf`), each as `normalizeLine` gives it, sorted.
 * A plain value: a run finds it once, before any article starts, and hands it to each article's cleaning.
 */
export type RepeatedLines = Record<string, string[]>;

export interface CleanOptions {
  /** The run's repeated lines; the article's own site's lines are removed from it. */
  repeatedLines?: RepeatedLines;
}

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
/** Fewest stories (articles, versions of one counted once) of a site a line must occur in to be its boilerplate. */
const REPEATED_MIN_STORIES = 3;
/** Share of a site's stories a prose line must occur in to be the site's boilerplate. */
const REPEATED_PROSE_MIN_SHARE = 0.5;

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

/**
 * The site an article belongs to: the folder it was read from. A night's crawl keeps each site (or
 * each section of one) in a folder of its own, and boilerplate is a site's, not the whole run's.
 */
export function siteOf(article: { source: { path: string } }): string {
  const slash = article.source.path.replace(/\\/gu, '/').lastIndexOf('/');
  return slash < 0 ? '.' : article.source.path.slice(0, slash) || '/';
}

/** One site's articles as the finder keeps them: line ids only, and which articles tell one story. */
interface Site {
  /** Id of each distinct normalized line, whether it is prose-shaped, and the articles it is the title of. */
  lineIds: Map<string, number>;
  prose: boolean[];
  titleOf: number[][];
  /** For each line id, the articles (by index) it occurs in. */
  postings: number[][];
  /** For each article, its number of distinct lines and its parent in the union-find of stories. */
  sizes: number[];
  parent: number[];
}

function story(site: Site, article: number): number {
  let root = article;
  while (site.parent[root] !== root) root = site.parent[root]!;
  site.parent[article] = root;
  return root;
}

/**
 * Counts lines across a run's articles, one article at a time (a run never holds every text), and says
 * which lines each site repeats. Articles of a site that share more than half of their lines (the
 * shorter one's) are one story — versions of an update, or one file under two names — and count once.
 * A line is then repeated when it occurs in at least `REPEATED_MIN_STORIES` of the site's stories;
 * a prose line (a sentence of a few words) must also be in `REPEATED_PROSE_MIN_SHARE` of them,
 * because a paragraph in a few stories is more likely one statement quoted by each than a plug: a
 * newsletter or copyright line stands in nearly every article of its site. A line that is the title
 * of exactly one story is that story's headline, which the site's other articles link to, and stays.
 */
export class RepeatedLineFinder {
  private readonly sites = new Map<string, Site>();

  add(article: SourceArticle): void {
    const name = siteOf(article);
    let site = this.sites.get(name);
    if (!site) {
      site = { lineIds: new Map(), prose: [], postings: [], sizes: [], parent: [], titleOf: [] };
      this.sites.set(name, site);
    }
    const index = site.sizes.length;
    const lines = toLines(article.text);
    const title = findTitle(lines, (i) => isImagePlaceholder(lines[i]!));
    const ids = new Set<number>();
    for (const [i, line] of lines.entries()) {
      const normalized = normalizeLine(line.text);
      let id = site.lineIds.get(normalized);
      if (id === undefined) {
        id = site.prose.length;
        site.lineIds.set(normalized, id);
        site.prose.push(line.prose);
        site.postings.push([]);
        site.titleOf.push([]);
      }
      if (i === title) site.titleOf[id]!.push(index);
      ids.add(id);
    }
    site.sizes.push(ids.size);
    site.parent.push(index);
    const shared = new Map<number, number>();
    for (const id of ids) for (const other of site.postings[id]!) shared.set(other, (shared.get(other) ?? 0) + 1);
    for (const [other, count] of shared) {
      if (2 * count > Math.min(ids.size, site.sizes[other]!)) site.parent[story(site, other)] = story(site, index);
    }
    for (const id of ids) site.postings[id]!.push(index);
  }

  result(): RepeatedLines {
    const repeated: RepeatedLines = {};
    for (const [name, site] of [...this.sites].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const stories = new Set(site.parent.map((_, article) => story(site, article))).size;
      const proseMin = Math.max(REPEATED_MIN_STORIES, Math.ceil(REPEATED_PROSE_MIN_SHARE * stories));
      const found = [...site.lineIds]
        .filter(([, id]) => {
          const count = new Set(site.postings[id]!.map((article) => story(site, article))).size;
          const titleOf = new Set(site.titleOf[id]!.map((article) => story(site, article))).size;
          return count >= (site.prose[id] ? proseMin : REPEATED_MIN_STORIES) && titleOf !== 1;
        })
        .map(([line]) => line)
        .sort();
      if (found.length > 0) repeated[name] = found;
    }
    return repeated;
  }
}

/** The repeated lines of a set of articles (see `RepeatedLineFinder`). */
export function findRepeatedLines(articles: Iterable<SourceArticle>): RepeatedLines {
  const finder = new RepeatedLineFinder();
  for (const article of articles) finder.add(article);
  return finder.result();
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

function isImagePlaceholder(line: Line): boolean {
  return IMAGE_PLACEHOLDER.test(line.text) && line.words <= NAVIGATION_MAX_WORDS;
}

/**
 * The first and last lines of the article's own prose (bullets count), leaving out the lines `skip`
 * says are not the article's. A title may end with `?` or `!`, so the body starts at the first bullet
 * or full-stop paragraph.
 */
function proseZone(lines: Line[], skip: (index: number) => boolean): { first?: number; last?: number } {
  const content = lines.map((line, i) => ((line.prose || line.bullet) && !skip(i) ? i : -1)).filter((i) => i >= 0);
  const first = content.find((i) => lines[i]!.bullet || FULL_STOP_END.test(lines[i]!.text)) ?? content[0];
  return { first, last: content[content.length - 1] };
}

/** The title: the longest title-shaped line before the body, among the lines `skip` leaves. */
function findTitle(lines: Line[], skip: (index: number) => boolean): number | undefined {
  const { first } = proseZone(lines, skip);
  let title: number | undefined;
  for (let i = 0; first !== undefined && i < first; i++) {
    const line = lines[i]!;
    if (skip(i) || !isTitleShaped(line)) continue;
    if (title === undefined || line.text.length > lines[title]!.text.length) title = i;
  }
  return title;
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

  const siteLines = new Set(options.repeatedLines?.[siteOf(article)] ?? []);
  const repeated = new Set<number>();
  lines.forEach((line, i) => {
    if (siteLines.has(normalizeLine(line.text))) {
      repeated.add(i);
      remove(i, 'repeated-across-corpus');
    } else if (isImagePlaceholder(line)) {
      remove(i, 'image-placeholder');
    }
  });

  // The zones are drawn by the article's own prose: a site's plug is no paragraph of it.
  const { first, last } = proseZone(lines, (i) => repeated.has(i));
  const titleIndex = findTitle(lines, (i) => reasons.has(i));

  if (first !== undefined && last !== undefined) {
    for (let i = 0; i < first; i++) {
      const line = lines[i]!;
      if (i === titleIndex || reasons.has(i)) continue;
      if (isEmptyLabel(line)) remove(i, 'empty-label');
      else if (line.words <= NAVIGATION_MAX_WORDS && !SENTENCE_END.test(line.text)) remove(i, 'navigation');
    }

    // Footer: the run of boilerplate at the very end, read backwards; a line that is not
    // boilerplate-shaped (a line-up, a quote) ends it, and what stands before it stays.
    const medianProse = median(lines.filter((line, i) => line.prose && !repeated.has(i)).map((line) => line.text.length));
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
