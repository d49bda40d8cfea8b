import type { LanguageCode, SentenceTerm } from '../article.js';
import { type DntKind, type DntSpan, findDntSpans } from './dnt.js';
import type { Glossary } from './glossary.js';
import { englishTermCount, TermMatcher } from './match.js';

/**
 * What a sentence's English must contain: its glossary terms and its do-not-translate spans, each
 * with the English text the decoder is constrained to and how the output is checked for it.
 */

export interface Requirement {
  kind: 'term' | DntKind;
  /** Character offsets in the source sentence. */
  start: number;
  end: number;
  /** The English the output must contain. */
  target: string;
  ignoreCase: boolean;
}

export interface TerminologySettings {
  glossary?: Glossary;
  /** The do-not-translate kinds that are on. */
  doNotTranslate: readonly DntKind[];
}

/** The requirements of one language's sentences: a glossary (matched as ./match.ts does) and DNT kinds. */
export class Terminology {
  private readonly matcher: TermMatcher | null;

  /** `marked`: the texts the sentences' page marks not to be translated (`SourceArticle.doNotTranslate`), for `markup`. */
  constructor(
    readonly lang: LanguageCode,
    readonly settings: TerminologySettings,
    private readonly marked: readonly string[] = [],
  ) {
    this.matcher = settings.glossary ? new TermMatcher(settings.glossary, lang) : null;
  }

  /**
   * A sentence's requirements, in sentence order: a text the page marks wins over a glossary term in
   * it, and a pattern span inside a glossary term is the term's business.
   */
  requirements(sentence: string): Requirement[] {
    const spans = findDntSpans(sentence, this.lang, this.settings.doNotTranslate, this.marked);
    const overlaps = (a: { start: number; end: number }, others: readonly { start: number; end: number }[]) =>
      others.some((b) => a.start < b.end && b.start < a.end);
    const markup = spans.filter((span) => span.kind === 'markup');
    const terms: Requirement[] = (this.matcher?.find(sentence) ?? [])
      .filter((match) => !overlaps(match, markup))
      .map((match) => ({
        kind: 'term',
        start: match.start,
        end: match.end,
        target: match.entry.target,
        ignoreCase: match.entry.ignoreCase,
      }));
    const copies = spans
      .filter((span) => span.kind === 'markup' || !overlaps(span, terms))
      .map((span: DntSpan): Requirement => ({ kind: span.kind, start: span.start, end: span.end, target: span.target, ignoreCase: false }));
    return [...terms, ...copies].sort((a, b) => a.start - b.start);
  }
}

/**
 * What a sentence's English does with each of its requirements, for the output: computed from the
 * sentence, its English and the requirements alone (never from the decoder), so a translation the
 * memory serves gets the same list. A requirement given n times (three XNUMX) is present only as
 * often as the English holds it: the first n copies are, the rest are not.
 */
export function sentenceTerms(sentence: string, english: string, requirements: readonly Requirement[]): SentenceTerm[] {
  const wanted = new Map<string, number>();
  return requirements.map((requirement) => {
    const key = `${requirement.ignoreCase}\u241F${requirement.target}`;
    const nth = (wanted.get(key) ?? 0) + 1;
    wanted.set(key, nth);
    const present = englishTermCount(english, requirement.target, requirement.ignoreCase) >= nth;
    return { kind: requirement.kind, source: sentence.slice(requirement.start, requirement.end), target: requirement.target, present };
  });
}

/**
 * The translation memory's key for a sentence: the sentence itself when it has no requirements (so
 * unconstrained translations stay shared), else the sentence and what it was constrained to, so a
 * translation made without (or with other) constraints is never served for it.
 */
export function memorySource(sentence: string, requirements: readonly Requirement[]): string {
  if (requirements.length === 0) return sentence;
  // U+241F, not NUL: PostgreSQL text refuses NUL.
  return `${sentence}\u241F${JSON.stringify(requirements.map((r) => [r.kind, r.target]))}`;
}
