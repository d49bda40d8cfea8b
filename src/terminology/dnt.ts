import type { LanguageCode } from '../article.js';
import { asciiDigits } from '../languages.js';

/**
 * Do-not-translate spans: the parts of a source sentence whose only right English is a copy (an
 * Arabic-Indic number becomes its ASCII digits, the one change). Found by pattern, and `markup`: the
 * texts a web page marks `translate="no"` or `class="notranslate"`; each kind can be switched off in
 * the config (`translation.doNotTranslate`).
 */

/** In the order they claim text: what the page marks first, then an earlier pattern before a later one. */
export const DNT_KINDS = ['markup', 'placeholders', 'addresses', 'latin', 'numbers'] as const;
export type DntKind = (typeof DNT_KINDS)[number];

export interface DntSpan {
  kind: DntKind;
  /** As the source writes it. */
  source: string;
  /** What the English must contain. */
  target: string;
  start: number;
  end: number;
}

const PATTERNS: Record<Exclude<DntKind, 'markup'>, RegExp> = {
  // {{name}}, {0}, {name}, %s, %d, %1$s
  placeholders: /\{\{[^{}]{1,100}\}\}|\{[\p{L}\p{N}_]{1,40}\}|%(?:\d+\$)?[sdfi@]/gu,
  addresses: /\b(?:https?:\/\/|www\.)[^\s<>"'«»]+[^\s<>"'«».,;:!?)]|[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu,
  // XNUMX (the masked numbers of the sample corpus) and digit groups, Arabic-Indic digits included.
  numbers: /\bXNUMX\b|[0-9\u0660-\u0669\u06F0-\u06F9]+(?:[.,\u066B\u066C][0-9\u0660-\u0669\u06F0-\u06F9]+)*/gu,
  // A Latin-script word in Arabic text: a name, a code, an acronym (Block IIA, NSATU, GPI).
  latin: /[\p{Script=Latin}][\p{Script=Latin}\p{N}]*(?:[-.&/_'’][\p{Script=Latin}\p{N}]+)*/gu,
};

/** Which kinds apply to a language: Latin tokens only where the script is not Latin already. */
function appliesTo(kind: DntKind, lang: LanguageCode): boolean {
  return kind !== 'latin' || lang === 'ar';
}

/** Where each of the page's marked texts occurs in the sentence, longest first. */
function* markedIn(sentence: string, marked: readonly string[]): Generator<{ index: number; 0: string }> {
  for (const text of [...marked].sort((a, b) => b.length - a.length))
    for (let index = sentence.indexOf(text); text !== '' && index !== -1; index = sentence.indexOf(text, index + text.length))
      yield { index, 0: text };
}

/**
 * The spans of `kinds` in a sentence, in order; an earlier kind in DNT_KINDS wins an overlap (a marked
 * text keeps its number, a URL keeps its digits, "Block-XNUMX" stays one code). `marked`: the texts the
 * page marks not to be translated (`SourceArticle.doNotTranslate`), for `markup`.
 */
export function findDntSpans(
  sentence: string,
  lang: LanguageCode,
  kinds: readonly DntKind[] = DNT_KINDS,
  marked: readonly string[] = [],
): DntSpan[] {
  const spans: DntSpan[] = [];
  for (const kind of DNT_KINDS) {
    if (!kinds.includes(kind) || !appliesTo(kind, lang)) continue;
    for (const match of kind === 'markup' ? markedIn(sentence, marked) : sentence.matchAll(PATTERNS[kind])) {
      const start = match.index;
      const end = start + match[0].length;
      if (spans.some((span) => start < span.end && span.start < end)) continue;
      spans.push({ kind, source: match[0], target: kind === 'numbers' ? asciiDigits(match[0], { thousands: ',' }) : match[0], start, end });
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}
