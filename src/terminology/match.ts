import type { LanguageCode } from '../article.js';
import type { Glossary, GlossaryEntry } from './glossary.js';
import { normalizeFor } from './normalize.js';

/**
 * Finds a glossary's terms in a source sentence, word by word on normalised text (./normalize.ts),
 * so spelling variants match. Arabic writes some words onto the next one (و "and", ف "so", ب "with",
 * ل "for", ال "the", and their combinations وال، بال، لل): the first word of a term may carry them, so
 * "وكيشيدا" matches "كيشيدا". Longer terms win over the shorter terms they contain.
 */

export interface TermMatch {
  entry: GlossaryEntry;
  /** Character offsets of the matched words in the sentence. */
  start: number;
  end: number;
}

const WORD = /[\p{L}\p{M}\p{N}]+(?:[-.'’][\p{L}\p{M}\p{N}]+)*/gu;
/** Longest first, so "وال" is tried before "و". */
export const ARABIC_PREFIXES = ['وبال', 'وال', 'فال', 'بال', 'كال', 'ولل', 'لل', 'ال', 'و', 'ف', 'ب', 'ل'];

interface Word {
  form: string;
  start: number;
  end: number;
}

function wordsOf(text: string, lang: LanguageCode): Word[] {
  return [...text.matchAll(WORD)].map((match) => ({
    form: normalizeFor(match[0], lang),
    start: match.index,
    end: match.index + match[0].length,
  }));
}

/** The forms a sentence word may stand for: itself and, in Arabic, itself without an attached prefix. */
function formsOf(form: string, lang: LanguageCode): string[] {
  if (lang !== 'ar') return [form];
  const forms = [form];
  // A stem keeps at least two letters: "بل" is a word, not ب + ل.
  for (const prefix of ARABIC_PREFIXES) {
    if (!form.startsWith(prefix) || form.length - prefix.length < 2) continue;
    const stem = form.slice(prefix.length);
    forms.push(stem);
    // A term may be written with its article ("الأمم المتحدة"): "وبالأمم" is وب + "الأمم", and ل before ال
    // drops the alef, so "للأمم" is ل + "الأمم".
    if ((prefix.endsWith('ال') && prefix !== 'ال') || prefix.endsWith('لل')) forms.push(`ال${stem}`);
  }
  return forms;
}

/** A glossary prepared for one language: each entry's normalised words, found by its first word. */
export class TermMatcher {
  private readonly byFirstWord = new Map<string, { entry: GlossaryEntry; words: string[]; rank: number }[]>();

  constructor(
    glossary: Glossary,
    private readonly lang: LanguageCode,
  ) {
    glossary.entries
      .map((entry) => ({ entry, words: wordsOf(entry.source, lang).map((word) => word.form) }))
      .filter((term) => term.words.length > 0)
      // Longest first: "Kishida Fumio" claims its words before "Kishida" can.
      .sort((a, b) => b.words.length - a.words.length || b.entry.source.length - a.entry.source.length)
      .forEach((term, rank) => {
        const first = term.words[0]!;
        this.byFirstWord.set(first, [...(this.byFirstWord.get(first) ?? []), { ...term, rank }]);
      });
  }

  /** The terms in `sentence`, in sentence order, none overlapping. */
  find(sentence: string): TermMatch[] {
    const words = wordsOf(sentence, this.lang);
    // Every place a term could start, claimed in the glossary's order (longest term first, then left to right).
    const candidates: { entry: GlossaryEntry; length: number; rank: number; at: number }[] = [];
    words.forEach((word, at) => {
      for (const form of new Set(formsOf(word.form, this.lang)))
        for (const { entry, words: termWords, rank } of this.byFirstWord.get(form) ?? [])
          if (this.restMatchesAt(words, at, termWords)) candidates.push({ entry, length: termWords.length, rank, at });
    });
    candidates.sort((a, b) => a.rank - b.rank || a.at - b.at);
    const taken = new Array<boolean>(words.length).fill(false);
    const found: TermMatch[] = [];
    for (const { entry, length, at } of candidates) {
      if (taken.slice(at, at + length).some(Boolean)) continue;
      taken.fill(true, at, at + length);
      found.push({ entry, start: words[at]!.start, end: words[at + length - 1]!.end });
    }
    return found.sort((a, b) => a.start - b.start);
  }

  /** The term's words after its first, from the sentence word after `at` on. */
  private restMatchesAt(words: readonly Word[], at: number, termWords: readonly string[]): boolean {
    if (at + termWords.length > words.length) return false;
    for (let k = 1; k < termWords.length; k++) if (words[at + k]!.form !== termWords[k]) return false;
    return true;
  }
}

/** How often the English carries an English term as a whole word sequence (case as the entry says). */
export function englishTermCount(english: string, term: string, ignoreCase: boolean): number {
  const [haystack, needle] = ignoreCase ? [english.toLowerCase(), term.toLowerCase()] : [english, term];
  let count = 0;
  let from = needle === '' ? -1 : haystack.indexOf(needle);
  while (from !== -1) {
    const before = haystack[from - 1];
    const after = haystack[from + needle.length];
    if (!isWordChar(before) && !isWordChar(after)) {
      count++;
      from = haystack.indexOf(needle, from + needle.length);
    } else from = haystack.indexOf(needle, from + 1);
  }
  return count;
}

function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[\p{L}\p{N}]/u.test(char);
}
