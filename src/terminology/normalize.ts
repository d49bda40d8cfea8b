import type { LanguageCode } from '../article.js';

/**
 * Text as glossary matching compares it: the spellings a language allows for one word made equal.
 * Arabic: hamza carriers (أ إ آ ٱ → ا, ؤ → و, ئ → ي), alef maqsura ى → ي, ta marbuta kept (it changes
 * the word), tatweel and diacritics (harakat, shadda, sukun, dagger alef) removed. Vietnamese: NFC after
 * moving a tone mark to where the new orthography puts it ("hoà" and "hòa" are one word). Others: NFC
 * and lower case when asked.
 */

const ARABIC_MARKS = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]/gu;
const ARABIC_LETTERS: Record<string, string> = { أ: 'ا', إ: 'ا', آ: 'ا', ٱ: 'ا', ؤ: 'و', ئ: 'ي', ى: 'ي' };

export function normalizeArabic(text: string): string {
  return text
    .normalize('NFC')
    .replace(ARABIC_MARKS, '')
    .replace(/[أإآٱؤئى]/gu, (letter) => ARABIC_LETTERS[letter]!);
}

/**
 * The old orthography puts the tone of "oa", "oe", "uy" (open syllable) on the first vowel (hòa,
 * thủy), the new one on the second (hoà, thuỷ). Both are common in news; matching uses the old one.
 */
const TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/u;
const NEW_STYLE_TONE = /([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])(?![\p{L}])/gu;

export function normalizeVietnamese(text: string): string {
  const decomposed = text.normalize('NFD');
  if (!TONE_MARKS.test(decomposed)) return text.normalize('NFC');
  return decomposed
    .replace(NEW_STYLE_TONE, (_all, first: string, second: string, tone: string) => `${first}${tone}${second}`)
    .normalize('NFC');
}

/** The normalised form matching compares; lower-cased for scripts with case (Latin). */
export function normalizeFor(text: string, lang: LanguageCode): string {
  if (lang === 'ar') return normalizeArabic(text);
  if (lang === 'vi') return normalizeVietnamese(text).toLowerCase();
  return text.normalize('NFC').toLowerCase();
}
