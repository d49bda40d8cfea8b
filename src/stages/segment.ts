import type { DetectedArticle, LanguageCode, SegmentedArticle } from '../article.js';
import { languageByCode, type SentenceRules, SHARED_SENTENCE_RULES } from '../languages.js';

/**
 * Sentence splitting by rules a reader of news would use. Every stop (`.`, `!`, `?`, `؟`, `۔`, `…`,
 * runs of them, spaced ellipses `. . .`) is a candidate end, with the quotes and brackets that close
 * after it; the candidate ends a sentence unless what stands around it says otherwise:
 * - the next word starts in lower case (`"Why?" she asked.`, `Yahoo! in`), or the stop is an
 *   omission (`[...]`, a spaced `. . .` before a capital);
 * - the word before is a title (`Mr.`, `TP.`, `د.`), a number abbreviation before a number (`p. 55`,
 *   `No. 5`), or an abbreviation, dotted acronym or initial (`Co.`, `U.S.`, `J.`) not followed by a
 *   word that opens sentences (`…in the U.S. How about you?` splits, `the U.S. Government` does not);
 * - it closes a list marker (`1.`, `a.`, `2.)`).
 * A stop with no space after it splits only between a word and a capitalised or Arabic word
 * (`…الدفاع.وقال`, `today.The`), never inside an e-mail address or URL. Numbered and lettered lists
 * that open a paragraph (`1) … 2) …`, `a. … b. …`, `• 9. … • 10. …`) split before each item.
 * Text whose punctuation is spaced out as in tokenized corpora (`Hà Nội , ngày 5 . Hôm`) splits alike,
 * and what such text leaves between stops with no word in it (`quen quen ? " . Hùng`) joins a sentence.
 *
 * `؛` (Arabic semicolon) is not a sentence end: like `;` it joins clauses of one sentence, and
 * splitting there would hand the translation model half a thought.
 */

/** Stops that end a sentence; `…` counts as three dots. */
const STOPS = new Set(['.', '!', '?', '؟', '۔', '…', '‼', '⁇', '⁈', '⁉']);
/** Full-width stops of Chinese and Japanese, which end a sentence with no space after them. */
const FULL_WIDTH_STOPS = new Set(['。', '！', '？']);
const CLOSERS = new Set(['"', "'", '”', '’', '»', ')', ']', '}', '›']);
const QUOTES = new Set(['"', "'", '”', '’', '»', '›']);
/** Closers that tokenized text sets off with a space (`. ”`, `. "`). */
const SPACED_CLOSERS = new Set(['"', "'", '”', '’', '»', ')', ']', '}', '›']);
/** Invisible direction marks and embeddings: Arabic text wraps a stop in them (`د‪.‬ ديفيد`). */
const BIDI = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/gu;
const isBidi = (ch: string) => /^[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]$/u.test(ch);
const isSpace = (ch: string | undefined) => ch !== undefined && /^\s$/u.test(ch);

/** A word opens in lower case, after any opening quotes or brackets. */
const LOWER_START = /^["'“‘«‹([]*\p{Ll}/u;
const FIRST_WORD = /^["'“‘«‹([]*([\p{L}\p{M}]+)/u;
/** Characters after a stop that the rules look at (an attribution is at most a few words). */
const LOOKAHEAD = 120;
/** Longest list marker with its bullet and spaces. */
const LIST_MARKER_MAX = 8;
/** A list marker standing alone: `1.`, `2.)`, `a.`, `• 9.`. */
const LIST_MARKER = /^(?:[•⁃▪‣◦]\s*)?(?:\d{1,2}|\p{Ll})\.\)?$/u;
/** A marker in running text; `value` is the item's number or letter. */
const MARKER = /(?<=^|\s)(?<bullet>[•⁃▪‣◦]\s*)?(?<value>\d{1,2}|[a-z])(?<style>\.\)|\.|\))(?=\s)/gu;
const DOTTED_ACRONYM = /^(?:\p{L}\.)+\p{L}$/u;
const URL_OR_EMAIL = /@|:\/\/|^www\./iu;

interface Rules {
  beforeName: Set<string>;
  beforeNumber: Set<string>;
  mayEnd: Set<string>;
  starters: Set<string>;
  speechVerbs: RegExp | undefined;
  /** Letters only this language writes: a word with one after an initial is not a foreign name. */
  ownLetters: RegExp | undefined;
}

const rulesCache = new Map<LanguageCode, Rules>();

function rulesFor(lang: LanguageCode): Rules {
  let rules = rulesCache.get(lang);
  if (!rules) {
    const language = languageByCode(lang);
    const own: SentenceRules | undefined = language?.sentences;
    const merge = (pick: (r: SentenceRules) => readonly string[]) => new Set([...pick(SHARED_SENTENCE_RULES), ...(own ? pick(own) : [])]);
    rules = {
      beforeName: merge((r) => r.beforeName),
      beforeNumber: merge((r) => r.beforeNumber),
      mayEnd: merge((r) => r.mayEnd),
      starters: new Set(own?.starters ?? []),
      speechVerbs: own?.speechVerbs.length ? new RegExp(`(?:^|\\s)(?:${own.speechVerbs.join('|')})(?=[\\s,]|$)`, 'u') : undefined,
      ownLetters: language?.ownLetters ? new RegExp(`[${language.ownLetters}]`, 'iu') : undefined,
    };
    rulesCache.set(lang, rules);
  }
  return rules;
}

interface Stop {
  /** Index just after the stop and the closers that follow it. */
  end: number;
  dots: number;
  /** A `!`, `?` or other stop that is not a dot. */
  exclaims: boolean;
  /** Dots separated by spaces (`. . .`). */
  spaced: boolean;
  /** Index of the second dot, where a period followed by a spaced ellipsis (`word. . . .`) ends. */
  secondDot: number;
  /** A quotation mark closes after the stop: what follows may be the quote's attribution. */
  closesQuote: boolean;
}

function readStop(text: string, start: number, isOpen: (quote: string, at: number) => boolean): Stop {
  const stop: Stop = { end: start, dots: 0, exclaims: false, spaced: false, secondDot: -1, closesQuote: false };
  let i = start;
  for (;;) {
    const ch = text[i];
    if (ch === undefined) break;
    if (STOPS.has(ch)) {
      if (ch === '.') {
        stop.dots++;
        if (stop.dots === 2) stop.secondDot = i;
      } else if (ch === '…') stop.dots += 3;
      else stop.exclaims = true;
      i++;
    } else if (isBidi(ch)) {
      i++;
    } else if (ch === ' ' && text[i + 1] === '.' && stop.dots > 0 && (i + 2 >= text.length || /[\s.!?"'”’»)\]]/u.test(text[i + 2]!))) {
      stop.spaced = true;
      i++;
    } else break;
  }
  // Closers, attached or (in tokenized text) after one space: `.”`, `. ”`, `. "` closing an open quote.
  for (;;) {
    const ch = text[i];
    if (ch === undefined) break;
    if (CLOSERS.has(ch) || isBidi(ch)) {
      if (QUOTES.has(ch)) stop.closesQuote = true;
      i++;
    } else if (isSpace(ch) && ch !== '\n' && SPACED_CLOSERS.has(text[i + 1] ?? '') && (i + 2 >= text.length || isSpace(text[i + 2]))) {
      const quote = text[i + 1]!;
      // A straight quote standing alone opens the next quote right after another closed (`." "`) or
      // when the next one closes (`. " Well, wait." `); it closes when that one opens or none follows,
      // else when one is open.
      if ((quote === '"' || quote === "'") && (stop.closesQuote || !closesHere(text, quote, i + 1, isOpen))) break;
      if (QUOTES.has(quote)) stop.closesQuote = true;
      i += 2;
    } else break;
  }
  stop.end = i;
  return stop;
}

/** Whether the straight quote at `at`, standing alone after a stop, closes a quote. */
function closesHere(text: string, quote: string, at: number, isOpen: (quote: string, at: number) => boolean): boolean {
  const following = text.indexOf(quote, at + 1);
  if (following < 0) return true;
  const attachedBefore = !isSpace(text[following - 1]);
  const attachedAfter = following + 1 < text.length && !isSpace(text[following + 1]);
  if (attachedBefore && !attachedAfter) return false;
  if (!attachedBefore && attachedAfter) return true;
  return isOpen(quote, at);
}

/** Prefix counts of `quote` standing as a quotation mark in `text`, not as an apostrophe between letters. */
function quoteMarkCounts(text: string, quote: string): Int32Array {
  const prefix = new Int32Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const mark = text[i] === quote && !(/\p{L}/u.test(text[i - 1] ?? '') && /\p{L}/u.test(text[i + 1] ?? ''));
    prefix[i + 1] = prefix[i]! + (mark ? 1 : 0);
  }
  return prefix;
}

/** The word a stop at `index` closes, without opening quotes or direction marks; in tokenized text, the token before. */
function wordBefore(text: string, index: number): string {
  let end = index;
  while (end > 0 && (isSpace(text[end - 1]) || isBidi(text[end - 1]!))) end--;
  let start = end;
  while (start > 0 && !isSpace(text[start - 1])) start--;
  return text
    .slice(start, end)
    .replace(BIDI, '')
    .replace(/^["'“‘«‹([]+/u, '');
}

function tokenAround(text: string, index: number): string {
  let start = index;
  while (start > 0 && !isSpace(text[start - 1])) start--;
  let end = index;
  while (end < text.length && !isSpace(text[end])) end++;
  return text.slice(start, end);
}

/** Whether a single full stop after `word` ends the sentence that `next` would follow. */
function fullStopEnds(word: string, next: string, sentence: string, rules: Rules): boolean {
  if (LIST_MARKER.test(sentence)) return false;
  const stem = word.endsWith('.') ? word.slice(0, -1) : word;
  const lower = stem.toLowerCase();
  if (rules.beforeName.has(lower)) return false;
  const abbreviation = rules.mayEnd.has(lower) || DOTTED_ACRONYM.test(stem);
  if (/^\p{N}/u.test(next)) return !(rules.beforeNumber.has(lower) || abbreviation);
  const nextWord = FIRST_WORD.exec(next)?.[1] ?? '';
  const starter = rules.starters.has(nextWord);
  // An initial (an unmarked capital) before a name, unless a sentence opens after it (`you and I. Did`)
  // or the next word is one of the language's own (`điểm A. Dữ liệu`): names after initials are foreign.
  if (/^\p{Lu}$/u.test(stem) && stem.normalize('NFD').length === 1) {
    return starter || (rules.ownLetters?.test(nextWord) ?? false);
  }
  if (rules.beforeNumber.has(lower)) return true;
  if (abbreviation) return starter;
  return true;
}

/** Most words of a quote's attribution (`Hammel chia sẻ thêm.`, `CNN reported.`). */
const ATTRIBUTION_MAX_WORDS = 6;

/**
 * Whether the text after a closed quote is the quote's attribution: a short clause ending with a stop
 * that has a verb of saying (`…!" Hammel added.`), which belongs to the quote's sentence.
 */
function isAttribution(rest: string, rules: Rules): boolean {
  if (!rules.speechVerbs) return false;
  const clause = /^([^.!?؟…"“”«»]+)[.!?؟…]/u.exec(rest)?.[1];
  if (!clause || clause.trim().split(/\s+/u).length > ATTRIBUTION_MAX_WORDS) return false;
  return rules.speechVerbs.test(clause);
}

/**
 * Starts of the items of a list that opens the text (`1. … 2. …`, `a) … b) …`, `• 9. … • 10. …`):
 * each next marker of the same style, numbered one more, starts a sentence.
 */
function listItemStarts(text: string): number[] {
  const markers = [...text.matchAll(MARKER)];
  const first = markers[0];
  if (!first || text.slice(0, first.index).trim() !== '') return [];
  const { bullet, value, style } = first.groups!;
  if (!bullet && value !== '1' && value !== 'a') return [];
  const starts: number[] = [];
  let expected = successor(value!);
  for (const marker of markers.slice(1)) {
    const groups = marker.groups!;
    if (groups.value === expected && groups.style === style && Boolean(groups.bullet) === Boolean(bullet)) {
      starts.push(marker.index);
      expected = successor(expected);
    }
  }
  return starts;
}

function successor(value: string): string {
  return /^\d+$/u.test(value) ? String(Number(value) + 1) : String.fromCharCode(value.charCodeAt(0) + 1);
}

/**
 * Where the sentence after the stop at `runStart` begins (`next`, its first non-space), or null when
 * the stop does not end the sentence that began at `sentenceStart`.
 */
function sentenceAfterStop(text: string, runStart: number, stop: Stop, next: number, sentenceStart: number, rules: Rules): number | null {
  let beforeIndex = runStart - 1;
  while (beforeIndex >= 0 && isBidi(text[beforeIndex]!)) beforeIndex--;
  const before = text[beforeIndex];
  const wordAttached = before !== undefined && !isSpace(before);
  // An omission in brackets (`[...]`, `(…)`) is not an end.
  if (before === '[' || before === '(') return null;
  // What follows, as far as any rule looks: a few words.
  const rest = text.slice(next, next + LOOKAHEAD);
  const sentence = stop.end - sentenceStart <= LIST_MARKER_MAX ? text.slice(sentenceStart, stop.end).trim() : '';
  if (next === stop.end) {
    // No space after the stop: only `word.Word` / `word.عربي` with one stop, outside URLs and e-mail addresses.
    const split =
      stop.dots + (stop.exclaims ? 1 : 0) === 1 &&
      /\p{L}{2}$/u.test(text.slice(Math.max(0, beforeIndex - 1), beforeIndex + 1)) &&
      /^(?:\p{Script=Arabic}|\p{Lu}\p{Ll})/u.test(rest) &&
      !URL_OR_EMAIL.test(tokenAround(text, runStart));
    return split && (stop.exclaims || fullStopEnds(wordBefore(text, runStart), rest, sentence, rules)) ? next : null;
  }
  if (LOWER_START.test(rest)) return null;
  if (stop.closesQuote && isAttribution(rest, rules)) return null;
  if (stop.dots >= 2) {
    // A period followed by a spaced ellipsis that opens the next sentence (`compounds. . . . The`).
    if (stop.spaced && wordAttached && stop.dots === 4) return stop.secondDot;
    // A spaced three-dot ellipsis before a capital is an omission inside the sentence.
    return stop.spaced && !wordAttached && stop.dots === 3 ? null : next;
  }
  return stop.exclaims || fullStopEnds(wordBefore(text, runStart), rest, sentence, rules) ? next : null;
}

export function splitSentences(text: string, lang: LanguageCode): string[] {
  const rules = rulesFor(lang);
  const forced = new Set(listItemStarts(text));
  const starts: number[] = [0];
  let sentenceStart = 0;
  const startAt = (index: number) => {
    starts.push(index);
    sentenceStart = index;
  };
  // Whether a straight quote is open at `at`, in the sentence or in the paragraph (quotes span sentences).
  const quoteCounts = new Map<string, Int32Array>();
  const isOpen = (quote: string, at: number) => {
    let counts = quoteCounts.get(quote);
    if (!counts) {
      counts = quoteMarkCounts(text, quote);
      quoteCounts.set(quote, counts);
    }
    return (counts[at]! - counts[sentenceStart]!) % 2 === 1 || counts[at]! % 2 === 1;
  };
  let i = 0;
  while (i < text.length) {
    if (forced.has(i) && i > sentenceStart) startAt(i);
    const ch = text[i]!;
    if (ch === '\n') {
      startAt(i + 1);
      i++;
      continue;
    }
    if (FULL_WIDTH_STOPS.has(ch)) {
      let end = i + 1;
      while (end < text.length && CLOSERS.has(text[end]!)) end++;
      if (end < text.length) startAt(end);
      i = end;
      continue;
    }
    if (!STOPS.has(ch)) {
      i++;
      continue;
    }
    const runStart = i;
    const stop = readStop(text, runStart, isOpen);
    i = stop.end;
    let next = stop.end;
    while (next < text.length && isSpace(text[next])) next++;
    if (next >= text.length) break;
    const start = sentenceAfterStop(text, runStart, stop, next, sentenceStart, rules);
    if (start !== null) startAt(start);
  }
  return attachWordless(text, starts);
}

/** A piece of text with no letter and no digit: stray punctuation, quotes, brackets or symbols. */
const WORDLESS = /^[^\p{L}\p{N}]*$/u;

/**
 * The sentences between `starts`, each piece with nothing to translate (`.`, `" .`, `؟`, `…`) joined to
 * the sentence before it, or to the next when it comes first, so that no sentence is punctuation
 * alone. Pieces never join across a line break; a line of punctuation alone stays as it is.
 */
function attachWordless(text: string, starts: readonly number[]): string[] {
  const spans: { start: number; end: number }[] = [];
  /** Where wordless pieces before the first sentence of a line began. */
  let leading: number | undefined;
  const sameLine = (start: number, end: number) => !text.slice(start, end).trim().includes('\n');
  starts.forEach((start, k) => {
    const end = starts[k + 1] ?? text.length;
    const sentence = text.slice(start, end).trim();
    if (sentence === '') return;
    if (leading !== undefined && !sameLine(leading, end)) {
      spans.push({ start: leading, end: start });
      leading = undefined;
    }
    const previous = spans[spans.length - 1];
    if (!WORDLESS.test(sentence)) {
      spans.push({ start: leading ?? start, end });
      leading = undefined;
    } else if (leading === undefined && previous && sameLine(previous.start, end)) {
      previous.end = end;
    } else {
      leading ??= start;
    }
  });
  if (leading !== undefined) spans.push({ start: leading, end: text.length });
  return spans.map(({ start, end }) => text.slice(start, end).trim());
}

/** Splits every paragraph into sentences in its own language; a sentence never crosses paragraphs. */
export function segmentSentences(article: DetectedArticle): SegmentedArticle {
  return {
    ...article,
    paragraphs: article.paragraphs.map((paragraph) => {
      const lang = paragraph.language.lang === 'und' ? article.language.lang : paragraph.language.lang;
      return { ...paragraph, sentences: splitSentences(paragraph.text, lang).map((source) => ({ source })) };
    }),
  };
}

/** Sentences of a text whose lines are paragraphs: a sentence never crosses a line. */
export function splitText(text: string, lang: LanguageCode): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((paragraph) => splitSentences(paragraph, lang));
}
