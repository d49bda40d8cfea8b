/**
 * Input splitting: a sentence longer than the model takes is cut into pieces it does take, at clause
 * punctuation, then spaces, then characters; nothing is dropped, and the pieces tokenize to the
 * whole sentence's tokens.
 */

/**
 * Longest text the tokenizer is given at once. It holds about 1 KB per character while it works and
 * overflows the call stack past some 100,000 tokens, so a longer sentence (a line with no
 * punctuation) is first cut at spaces into chunks this long, which then split to fit the model like
 * any long input: memory stays bounded whatever the line's length.
 */
export const MAX_TOKENIZED_CHARS = 10_000;

/**
 * Cuts a text into chunks of at most `maxChars` characters at the last whitespace before each limit
 * (at the limit itself, never inside a surrogate pair, when a chunk has no whitespace). Nothing but
 * the whitespace at the cuts is dropped.
 */
export function cutAtSpaces(text: string, maxChars: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > maxChars) {
    let cut = start + maxChars;
    while (cut > start && !/\s/u.test(text[cut]!)) cut--;
    if (cut === start) {
      cut = start + maxChars;
      const code = text.charCodeAt(cut);
      if (code >= 0xdc00 && code <= 0xdfff) cut--;
    }
    const chunk = text.slice(start, cut).trim();
    if (chunk !== '') chunks.push(chunk);
    start = cut;
    while (start < text.length && /\s/u.test(text[start]!)) start++;
  }
  const last = text.slice(start).trim();
  if (last !== '') chunks.push(last);
  return chunks;
}

/** Clause ends: Arabic comma and semicolon, Latin comma, semicolon, colon, en dash; followed by a space. */
const CLAUSE_END = /[،؛,;:–](?=\s)/gu;

/**
 * Splits a text that is over the token limit into pieces that fit: at clause punctuation first, then
 * at whitespace, packing as many clauses (or words) into a piece as fit. Splits are made at spaces,
 * so the pieces tokenize to exactly the whole text's tokens. A single "word" over the limit (a long
 * URL) is cut by characters as the last resort. Nothing is dropped.
 */
export function splitToFit(text: string, countTokens: (text: string) => number, maxTokens: number): string[] {
  if (countTokens(text) <= maxTokens) return [text];
  const words = text.split(/\s+/u).filter((word) => word !== '');
  for (const parts of [splitAfter(text, CLAUSE_END), words]) {
    if (parts.length < 2) continue;
    const pieces = pack(parts, countTokens, maxTokens);
    // Each piece is checked again, exactly, by the recursion.
    if (pieces.length > 1) return pieces.flatMap((piece) => splitToFit(piece, countTokens, maxTokens));
  }
  const chars = Array.from(text);
  const half = Math.ceil(chars.length / 2);
  return [chars.slice(0, half).join(''), chars.slice(half).join('')].flatMap((piece) => splitToFit(piece, countTokens, maxTokens));
}

function splitAfter(text: string, boundary: RegExp): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const end = match.index + match[0].length;
    parts.push(text.slice(start, end).trim());
    start = end;
  }
  parts.push(text.slice(start).trim());
  return parts.filter((part) => part !== '');
}

/**
 * Greedily joins consecutive parts (with a space) while the joined text fits. Each part is counted
 * once and the counts are added up (the tokenizer splits at whitespace before it tokenizes, so the
 * parts of a text tokenize alike alone and together); counting each growing piece anew made a long
 * unpunctuated line quadratic. `splitToFit` re-counts every piece exactly.
 */
function pack(parts: string[], countTokens: (text: string) => number, maxTokens: number): string[] {
  const specialTokens = countTokens('');
  const pieces: string[] = [];
  let current = '';
  let currentTokens = 0;
  for (const part of parts) {
    const partTokens = countTokens(part);
    const joinedTokens = currentTokens + partTokens - specialTokens;
    if (current === '' || joinedTokens > maxTokens) {
      if (current !== '') pieces.push(current);
      current = part;
      currentTokens = partTokens;
    } else {
      current = `${current} ${part}`;
      currentTokens = joinedTokens;
    }
  }
  if (current !== '') pieces.push(current);
  return pieces;
}
