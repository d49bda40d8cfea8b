import type { Requirement } from './terminology.js';

/**
 * Placeholder masking, for what the model's vocabulary cannot write: a requirement whose English the
 * tokenizer cannot spell back (a tiny vocabulary without `B`, a real one without a script, `ö`, `@`)
 * cannot be forced token by token. Its source text is replaced by a placeholder the vocabulary can
 * spell, the decoder is constrained to that placeholder (./constraints.ts), and the placeholder in
 * the English is replaced by the requirement's English. Validation is the ordinary check: a
 * placeholder the English lacks leaves the requirement not present (flagged `term-missing` for a
 * glossary term), never a guessed insertion. Spellable requirements are forced as they are, which
 * keeps the sentence the model sees whole.
 */

export interface MaskedSentence {
  /** The sentence as the model gets it: each unspellable requirement's source replaced by its placeholder. */
  text: string;
  /** Per requirement, in order: the text of `text` it stands on, and the tokens the English must hold (null: none can be spelled). */
  constraints: { source: string; tokens: number[] | null }[];
  /** Each placeholder and the English it stands for. */
  placeholders: { placeholder: string; target: string }[];
}

/**
 * Capitals and a number, as acronyms and product codes are written, which translation models copy;
 * several forms because some vocabularies lack some letters (the first one spelled is used).
 */
const PLACEHOLDER_FORMS = ['ZZ', 'QX', 'TMP', 'Tt'];

/** `spell`: the English as the model's tokens, or null when its tokenizer cannot write it back exactly. */
export function maskUnspellable(
  text: string,
  requirements: readonly Requirement[],
  spell: (english: string) => number[] | null,
): MaskedSentence {
  const constraints: MaskedSentence['constraints'] = [];
  const placeholders: MaskedSentence['placeholders'] = [];
  let masked = '';
  let done = 0;
  // Requirements come in sentence order and never overlap (Terminology.requirements).
  for (const requirement of requirements) {
    const source = text.slice(requirement.start, requirement.end);
    const tokens = spell(requirement.target);
    const placeholder = tokens ? null : placeholderFor(text, placeholders.length + 1, spell);
    if (!placeholder) {
      constraints.push({ source, tokens });
      continue;
    }
    masked += text.slice(done, requirement.start) + placeholder.text;
    done = requirement.end;
    constraints.push({ source: placeholder.text, tokens: placeholder.tokens });
    placeholders.push({ placeholder: placeholder.text, target: requirement.target });
  }
  return { text: masked + text.slice(done), constraints, placeholders };
}

function placeholderFor(text: string, n: number, spell: (english: string) => number[] | null): { text: string; tokens: number[] } | null {
  for (const form of PLACEHOLDER_FORMS) {
    const candidate = `${form}${n}`;
    const tokens = text.includes(candidate) ? null : spell(candidate);
    if (tokens) return { text: candidate, tokens };
  }
  return null;
}

/** The English with each placeholder replaced by what it stands for (longest first: `ZZ12` is not `ZZ1` + `2`). */
export function unmask(english: string, masked: MaskedSentence): string {
  const byLength = [...masked.placeholders].sort((a, b) => b.placeholder.length - a.placeholder.length);
  return byLength.reduce((out, { placeholder, target }) => out.replaceAll(placeholder, () => target), english);
}
