import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import chardet from 'chardet';
import iconv from 'iconv-lite';
import type { SourceArticle } from '../article.js';
import { InputError } from '../errors.js';
import { LANGUAGES, type Language } from '../languages.js';

/**
 * Stage 1, read: bytes → text. The encoding is detected from the bytes, never from the file name:
 *
 * 1. a byte order mark: UTF-8, UTF-16 LE or BE;
 * 2. UTF-16 without a BOM when zero bytes sit almost only at odd (LE) or even (BE) positions, as they
 *    do for the ASCII spaces, digits and punctuation of any UTF-16 text;
 * 3. any other NUL byte: binary;
 * 4. valid UTF-8;
 * 5. UTF-8 with a few invalid bytes: when the valid multi-byte characters outnumber the invalid
 *    sequences, the file is UTF-8 that got damaged (a legacy code page almost never forms a valid
 *    multi-byte sequence), so it stays UTF-8 with U+FFFD and an `invalid-utf8` warning;
 * 6. the legacy code pages these languages still arrive in, windows-1256 (Arabic) and windows-1258
 *    (Vietnamese), only when UTF-8 fails broadly: each candidate decoding is scored by how many of
 *    its letters sit in words of one plausible script (wrong code pages produce words mixing Arabic
 *    and Latin letters, or Latin letters that do not exist in Vietnamese); chardet's n-gram
 *    confidence breaks near-ties;
 * 7. otherwise UTF-8 with U+FFFD for the invalid bytes and an `invalid-utf8` warning, unless the result
 *    is mostly not text, which makes it binary.
 */

/** Something the reader had to repair; the article is usable but its status should say so (`partial`). */
export interface ReadWarning {
  /** Bytes not valid in the detected encoding were replaced with U+FFFD. */
  reason: 'invalid-utf8' | 'invalid-utf16';
  message: string;
}

export interface ReadArticle extends SourceArticle {
  warnings: ReadWarning[];
  /**
   * What the reader set right without losing anything (a web page whose `<meta charset>` contradicts
   * its bytes), each naming the file; said as warnings in the log, the status is not affected.
   */
  notices?: string[];
}

export type DetectedEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | LegacyEncoding;

export interface Decoding {
  encoding: DetectedEncoding;
  text: string;
  /** Bytes that were not valid in the encoding and became U+FFFD. */
  invalid: boolean;
}

/** Legacy detection looks at this much of a file; enough for any article, and keeps chardet cheap. */
const SAMPLE_BYTES = 256 * 1024;
/** Share of letters in single-script words for a legacy decoding to count as the right one. */
const MIN_SCRIPT_FIT = 0.9;
/** Share of text-like characters below which decoded bytes are taken to be binary. */
const MIN_TEXT_SHARE = 0.9;

export function decodeArticle(bytes: Buffer, path: string, id: string): ReadArticle {
  const source = {
    path,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  const decoding = decodeBytes(bytes, path);
  const text = normalizeText(decoding.text);
  if (isBlank(text)) {
    throw new InputError(
      path,
      'empty',
      `${path}: the article is empty (${bytes.length === 0 ? 'no bytes' : 'only whitespace'}); remove the file or give it text`,
    );
  }
  const warnings: ReadWarning[] = decoding.invalid ? [invalidBytesWarning(path, decoding)] : [];
  return { id, source: { ...source, encoding: decoding.encoding }, text, warnings };
}

/** The warning for a decoding with replaced bytes; the HTML reader gives the same one. */
export function invalidBytesWarning(path: string, { encoding, text }: Decoding): ReadWarning {
  if (encoding === 'utf-8') {
    const replaced = text.split('\uFFFD').length - 1;
    const line = text.slice(0, text.indexOf('\uFFFD')).split(/\r\n?|\n/).length;
    return {
      reason: 'invalid-utf8',
      message: `${path}: not valid UTF-8 nor windows-1256/1258: ${replaced} invalid byte sequence${replaced === 1 ? '' : 's'} replaced with U+FFFD, the first on line ${line}; re-save the file as UTF-8`,
    };
  }
  return {
    reason: 'invalid-utf16',
    message: `${path}: ${encoding} by its byte order mark but with invalid units (odd length or unpaired surrogates), replaced with U+FFFD; re-save the file as UTF-8`,
  };
}

/** The text reader's detection (steps 1–6 above); the HTML reader falls back to it. */
export function decodeBytes(bytes: Buffer, path: string): Decoding {
  const binary = () =>
    new InputError(
      path,
      'binary',
      `${path}: this is a binary file, not text (NUL or control bytes, not valid in any supported encoding); ` +
        'articles must be plain text in UTF-8, UTF-16, windows-1256 or windows-1258 — remove it from the input or narrow input.patterns',
    );
  const bom = decodeWithBom(bytes);
  if (bom) {
    if (textShare(bom.text) < MIN_TEXT_SHARE) throw binary();
    return bom;
  }

  const utf16 = utf16WithoutBom(bytes);
  if (utf16) return utf16;

  if (bytes.includes(0)) throw binary();

  const utf8 = decodeUtf8(bytes);
  if (!utf8.invalid) {
    if (textShare(utf8.text) < MIN_TEXT_SHARE) throw binary();
    return utf8;
  }

  if (!mostlyValidUtf8(utf8.text)) {
    const legacy = detectLegacyEncoding(bytes);
    if (legacy) return { encoding: legacy, text: iconv.decode(bytes, legacy), invalid: false };
  }

  if (textShare(utf8.text) < MIN_TEXT_SHARE) throw binary();
  return utf8;
}

function decodeWithBom(bytes: Buffer): Decoding | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decodeUtf8(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeUtf16(bytes.subarray(2), 'utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeUtf16(bytes.subarray(2), 'utf-16be');
  return undefined;
}

export function decodeUtf8(bytes: Uint8Array): Decoding {
  try {
    return { encoding: 'utf-8', text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), invalid: false };
  } catch {
    return { encoding: 'utf-8', text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), invalid: true };
  }
}

function decodeUtf16(bytes: Uint8Array, encoding: 'utf-16le' | 'utf-16be'): Decoding {
  try {
    return { encoding, text: new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes), invalid: false };
  } catch {
    return { encoding, text: new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes), invalid: true };
  }
}

/**
 * UTF-16 text has a zero high byte for every ASCII character (spaces at least, in any script), so its
 * zero bytes fall almost only on one parity; binary data has them on both.
 */
function utf16WithoutBom(bytes: Buffer): Decoding | undefined {
  const sample = bytes.subarray(0, SAMPLE_BYTES - (SAMPLE_BYTES % 2));
  if (sample.length < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let index = 0; index < sample.length; index++) {
    if (sample[index] === 0) {
      if (index % 2 === 0) evenZeros++;
      else oddZeros++;
    }
  }
  const units = sample.length / 2;
  const [many, few] = oddZeros >= evenZeros ? [oddZeros, evenZeros] : [evenZeros, oddZeros];
  if (many / units < 0.1 || few / units > 0.01) return undefined;
  const decoding = decodeUtf16(bytes, oddZeros >= evenZeros ? 'utf-16le' : 'utf-16be');
  return !decoding.invalid && textShare(decoding.text) >= MIN_TEXT_SHARE ? decoding : undefined;
}

/**
 * True when a lossy UTF-8 decoding has more valid non-ASCII characters than U+FFFD replacements
 * (one per invalid sequence). Arabic or Vietnamese in a legacy code page decodes to almost nothing
 * but replacements; UTF-8 with some damaged bytes keeps nearly all its characters.
 */
function mostlyValidUtf8(text: string): boolean {
  let valid = 0;
  let invalid = 0;
  for (const character of text) {
    if (character === '\uFFFD') invalid++;
    else if (character.codePointAt(0)! > 0x7f) valid++;
  }
  return valid > invalid;
}

/** The legacy code pages of the languages that have one, each with how well a decoding fits its letters. */
const LEGACY_CANDIDATES = LANGUAGES.flatMap((language) =>
  language.legacyEncoding ? [{ encoding: language.legacyEncoding, fit: scriptFit(language) }] : [],
);

type LegacyEncoding = NonNullable<Language['legacyEncoding']>;

function detectLegacyEncoding(bytes: Buffer): LegacyEncoding | undefined {
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  const confidence = new Map(chardet.analyse(sample).map((match) => [match.name.toLowerCase(), match.confidence]));
  const scored = LEGACY_CANDIDATES.map(({ encoding, fit }) => {
    const text = iconv.decode(sample, encoding).normalize('NFC');
    return {
      encoding,
      // biome-ignore lint/suspicious/noFocusedTests: a property named `fit`, not jasmine's focused test
      fit: textShare(text) >= MIN_TEXT_SHARE ? fit(text) : 0,
      confidence: confidence.get(encoding) ?? 0,
    };
  }).sort((a, b) => (Math.abs(a.fit - b.fit) > 0.02 ? b.fit - a.fit : b.confidence - a.confidence));
  const best = scored[0];
  return best && best.fit >= MIN_SCRIPT_FIT ? best.encoding : undefined;
}

const WORD = /[\p{L}\p{M}]+/gu;
const ARABIC_SCRIPT = /[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/u;
const LATIN_SCRIPT = /\p{Script=Latin}/u;
const LETTER = /\p{L}/gu;

/**
 * How well a decoded sample fits a language, as the share of letters in words it could write: for a
 * language with marked letters (Vietnamese), words spelled with the basic Latin letters and those
 * (after NFC, so a tone mark left uncombined, or a letter Vietnamese does not have, spoils its word);
 * otherwise (Arabic), words that do not mix Arabic and Latin letters.
 */
function scriptFit(language: Language): (text: string) => number {
  if (language.markedLetters) {
    const marked = language.markedLetters + language.markedLetters.toUpperCase();
    const alphabetWord = new RegExp(`^[a-zA-Z${marked}]+$`, 'u');
    return (text) => shareOfLettersInWords(text, (word) => alphabetWord.test(word));
  }
  return (text) => shareOfLettersInWords(text, (word) => !(ARABIC_SCRIPT.test(word) && LATIN_SCRIPT.test(word)));
}

function shareOfLettersInWords(text: string, wordFits: (word: string) => boolean): number {
  let letters = 0;
  let fitting = 0;
  for (const [word] of text.matchAll(WORD)) {
    const count = word.match(LETTER)?.length ?? 0;
    letters += count;
    if (wordFits(word)) fitting += count;
  }
  return letters === 0 ? 0 : fitting / letters;
}

/** Controls other than whitespace, and U+FFFD, are what decoding binary data produces. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const NOT_TEXT = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F\uFFFD]/gu;

function textShare(text: string): number {
  if (text.length === 0) return 1;
  return 1 - (text.match(NOT_TEXT)?.length ?? 0) / text.length;
}

/** CR LF, CR, NEL, vertical tab, form feed and the Unicode line/paragraph separators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: vertical tab and form feed are line breaks here
const LINE_BREAK = /\r\n?|[\u000B\u000C\u0085\u2028\u2029]/g;

/**
 * Removed: C0/C1 controls except `\n` and `\t`, soft hyphen, zero-width space, word joiner and the
 * invisible math operators, BOMs inside the text, Mongolian vowel separator. Kept because they carry
 * meaning: LRM/RLM/ALM (U+200E, U+200F, U+061C) and the bidi embeddings and isolates, which fix the
 * direction of mixed Arabic/Latin runs; ZWNJ (U+200C), which Persian and Urdu spelling needs between
 * letters of one word; ZWJ (U+200D), which joins emoji sequences and Arabic-script letters.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F\u00AD\u180E\u200B\u2060-\u2064\uFEFF]/g;

/** Line endings unified to `\n`, invisible characters removed, then NFC. */
export function normalizeText(text: string): string {
  return text.replace(LINE_BREAK, '\n').replace(INVISIBLE, '').normalize('NFC');
}

const BLANK = /^[\s\u200C-\u200F\u061C\u202A-\u202E\u2066-\u2069]*$/u;

function isBlank(text: string): boolean {
  return BLANK.test(text);
}

/** The name without its extension; a compressed file loses both (`a.html.gz` → `a`). */
export function withoutExtension(name: string): string {
  const uncompressed = name.endsWith('.gz') ? name.slice(0, -'.gz'.length) : name;
  return uncompressed.slice(0, uncompressed.length - extname(uncompressed).length);
}

export interface ArticleFile {
  /** As its pattern matched it: relative to the working directory when the pattern was relative. */
  path: string;
  /** The static part of the pattern that matched it (`input` for `input/**\/*.txt`); ids are relative to it. */
  inputRoot: string;
}
