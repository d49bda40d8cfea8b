import type { DetectedArticle, LanguageCode, SegmentedArticle } from '../article.js';

/**
 * Sentence splitting: the Unicode sentence-break rules (`Intl.Segmenter`), then fixes for what those
 * rules get wrong in news text — a full stop with no space after it (common in Arabic), and
 * abbreviations and initials they take for sentence ends (`U.S.`, `Mr.`, `TP.`, `J. Smith`).
 *
 * `؛` (Arabic semicolon) is not a sentence end: like `;` it joins clauses of one sentence, and
 * splitting there would hand the translation model half a thought. `؟`, `!`, `.` and `۔` end one.
 */

/** Abbreviations that end with a full stop but not a sentence, lower-cased, without the stop. */
const ABBREVIATIONS: Record<string, readonly string[]> = {
  en: [
    'mr', 'mrs', 'ms', 'messrs', 'dr', 'prof', 'st', 'sr', 'jr', 'gen', 'gov', 'sen', 'sens', 'rep', 'reps',
    'lt', 'col', 'capt', 'sgt', 'cmdr', 'adm', 'maj', 'det', 'insp', 'supt', 'rev', 'hon', 'pres', 'mt', 'ft',
    'no', 'nos', 'vs', 'v', 'etc', 'inc', 'ltd', 'co', 'corp', 'dept', 'univ', 'approx', 'est', 'fig', 'vol',
    'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'ave', 'blvd', 'rd',
  ],
  // Thành phố, Tổng thống, Thạc sĩ, Phó giáo sư, Giáo sư, Tiến sĩ, Bác sĩ, Kỹ sư, Nhà xuất bản, Quận, Phường, Thị xã.
  vi: ['tp', 'tt', 'ths', 'th.s', 'pgs', 'gs', 'ts', 'bs', 'ks', 'nxb', 'q', 'p', 'tx', 'pgs.ts', 'gs.ts'],
  // دكتور, أستاذ (as in أ.د.).
  ar: ['د', 'أ', 'أ.د'],
};

/** Titles and names borrowed across news languages (a Vietnamese text writes `St.` and `Dr.` too). */
const SHARED_ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'no', 'vs', 'v']);

const segmenters = new Map<string, Intl.Segmenter>();

function segmenterFor(lang: LanguageCode): Intl.Segmenter {
  let segmenter = segmenters.get(lang);
  if (!segmenter) {
    const locale = Intl.Segmenter.supportedLocalesOf([lang]).length > 0 ? lang : 'en';
    segmenter = new Intl.Segmenter(locale, { granularity: 'sentence' });
    segmenters.set(lang, segmenter);
  }
  return segmenter;
}

/**
 * A stop followed at once by the next sentence's first letter: `…الدفاع.وقال` or `…today.The`.
 * The word before the stop must have two letters or more, so `د.محمد`, `U.S.` and `e.g.` stay whole.
 */
const STOP_WITHOUT_SPACE = /(?<=[\p{L}]{2}[.!?؟۔]["'”’»)\]]*)(?=\p{Script=Arabic}|\p{Lu}\p{Ll})/gu;

/** A sentence that starts with what closes the previous one: a quote or bracket, then space. */
const LEADING_CLOSER = /^(["'”’»)\]]+)(\s+|$)/u;

function lastWord(sentence: string): string {
  const words = sentence.trimEnd().split(/\s+/);
  return (words[words.length - 1] ?? '').replace(/^["'“‘«([]+/u, '');
}

/**
 * Whether `next` goes on the sentence `previous` seemed to end: `previous` ends with an abbreviation
 * or an initial, or `next` starts in lower case (`"Why?" she asked.`).
 */
function continuesSentence(previous: string, next: string, lang: LanguageCode): boolean {
  if (/^["'“‘«(]*\p{Ll}/u.test(next)) return true;
  const word = lastWord(previous);
  if (!word.endsWith('.')) return false;
  const stem = word.slice(0, -1).toLowerCase();
  const known = ABBREVIATIONS[lang] ?? [];
  if (known.includes(stem) || SHARED_ABBREVIATIONS.has(stem)) return true;
  // An initial before a name: `J. Smith`, `Dr. A. Nguyen`.
  if (/^\p{Lu}$/u.test(word.slice(0, -1)) && /^\p{Lu}/u.test(next)) return true;
  // Dotted acronyms (`U.S.`, `a.m.`) are far more often inside a news sentence than at its end.
  return /^(\p{L}\.)+\p{L}$/u.test(word.slice(0, -1));
}

export function splitSentences(text: string, lang: LanguageCode): string[] {
  const pieces: string[] = [];
  for (const { segment } of segmenterFor(lang).segment(text)) {
    for (const piece of segment.split(STOP_WITHOUT_SPACE)) pieces.push(piece);
  }
  const sentences: string[] = [];
  for (const raw of pieces) {
    let piece = raw;
    const previous = sentences[sentences.length - 1];
    if (previous !== undefined) {
      const closer = LEADING_CLOSER.exec(piece);
      if (closer && !/\s$/u.test(previous)) {
        sentences[sentences.length - 1] = previous + closer[1];
        piece = piece.slice(closer[0].length);
      }
      const current = sentences[sentences.length - 1]!;
      if (piece.trim() !== '' && continuesSentence(current, piece.trimStart(), lang)) {
        sentences[sentences.length - 1] = current + piece;
        continue;
      }
    }
    if (piece.trim() !== '') sentences.push(piece);
  }
  return sentences.map((sentence) => sentence.trim()).filter((sentence) => sentence !== '');
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
