import type { LanguageCode } from '../article.js';
import { splitSentences } from '../stages/segment.js';

/** A text cut into the sentences the model translates, and how to put their English back in its place. */
export interface SentencePlan {
  sentences: string[];
  /** The text with each sentence replaced by its translation (as many, in order). */
  assemble(targets: readonly string[]): string;
}

/** Anything to translate: a text without letters (numbers, punctuation, space) is kept as it is. */
export function hasLetters(text: string): boolean {
  return /\p{L}/u.test(text);
}

/**
 * `format: text`: each line is split into sentences by the segmenter's rules for `lang`; line breaks
 * and the space around each line are kept, and a line's sentences are joined by one space.
 */
export function planText(text: string, lang: LanguageCode): SentencePlan {
  const parts = text.split(/(\r?\n)/);
  const lines = parts.map((part, index) => {
    // Odd indices are the line breaks the split kept.
    const [, lead = '', core = '', trail = ''] = /^(\s*)([\s\S]*?)(\s*)$/u.exec(part) ?? [];
    if (index % 2 === 1 || !hasLetters(core)) return { literal: part, sentences: [] as string[] };
    return { lead, trail, sentences: splitSentences(core, lang).filter((sentence) => sentence.trim() !== '') };
  });
  return {
    sentences: lines.flatMap((line) => line.sentences),
    assemble(targets) {
      let next = 0;
      return lines
        .map((line) => {
          if ('literal' in line) return line.literal;
          const english = line.sentences.map(() => targets[next++] ?? '').join(' ');
          return `${line.lead}${english}${line.trail}`;
        })
        .join('');
    },
  };
}
