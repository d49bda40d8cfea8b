import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { type ExtractedBlock, extractArticle } from './html-extract.js';
import { decodeBytes, decodeUtf8, invalidBytesWarning, normalizeText, type ReadArticle, type ReadWarning } from './read.js';
import type { ArticleReader } from './reader.js';

/**
 * A saved web page (`.html`, `.htm`, either gzipped): decoded as a browser would, its article found
 * (see `extractArticle`), and its text laid out as the text reader's is — the title on the first
 * line, then one line per paragraph, heading or list item (`• ` before an item) — so the stages
 * after it treat both alike. The page's metadata rides along in `page`.
 */
export const htmlReader: ArticleReader = {
  format: 'html',
  handles: (path) => /\.html?(?:\.gz)?$/i.test(path),
  read(bytes, file) {
    const html = decodeHtml(unpack(bytes, file.path, file.maxBytes), file.path, file.fetched?.charset ?? null);
    if (html.text.trim() === '') {
      throw new InputError(
        file.path,
        'empty',
        `${file.path}: the page is empty (${bytes.length === 0 ? 'no bytes' : 'only whitespace'}); remove the file or save the page again`,
      );
    }
    const extracted = extractArticle(html.text, file.limits);
    if (!extracted.found && extracted.reason === 'too-complex')
      throw new InputError(file.path, 'too-complex', `${file.path}: ${extracted.why}`);
    if (!extracted.found) {
      throw new InputError(
        file.path,
        'no-article',
        `${file.path}: no article in this page: ${extracted.why}; if it is an article, save the full page (not a preview), or remove it from the input`,
      );
    }
    const { meta } = extracted;
    const lines = [meta.title ?? '', ...extracted.blocks.map(blockLine)];
    const article: ReadArticle = {
      id: file.id,
      source: { path: file.path, bytes: bytes.length, encoding: html.encoding, sha256: createHash('sha256').update(bytes).digest('hex') },
      text: normalizeText(lines.join('\n')),
      page: { ...meta, extraction: extracted.method, removed: extracted.dropped },
      ...(extracted.doNotTranslate.length > 0 ? { doNotTranslate: extracted.doNotTranslate } : {}),
      ...(file.fetched ? { fetched: { url: file.fetched.url, feed: file.fetched.feed, feedDate: file.fetched.feedDate } } : {}),
      warnings: html.warnings,
      ...(html.notices.length > 0 ? { notices: html.notices } : {}),
    };
    return article;
  },
};

function blockLine(block: ExtractedBlock): string {
  return block.kind === 'item' ? `• ${block.text}` : block.text;
}

function unpack(bytes: Buffer, path: string, maxBytes: number): Buffer {
  if (!path.toLowerCase().endsWith('.gz')) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError(
        path,
        'too-large',
        `${path}: unpacks to more than input.maxBytes (${maxBytes}); raise input.maxBytes in pipeline.yaml`,
      );
    }
    throw new InputError(
      path,
      'unreadable',
      `${path}: not a valid gzip file (${(error as Error).message}); re-save it, or drop the .gz from its name if it is not compressed`,
    );
  }
}

export interface HtmlDecoding {
  /** The WHATWG name of the encoding used, e.g. `utf-8`, `windows-1256`. */
  encoding: string;
  text: string;
  /** Bytes not valid in the encoding were replaced with U+FFFD; warned about as the text reader does. */
  warnings: ReadWarning[];
  /** A `<meta charset>` the bytes contradict, and what was read instead. */
  notices: string[];
}

/** `<meta charset=…>` and `<meta http-equiv="Content-Type" content="…; charset=…">` alike. */
const META_TAG = /<meta\b[^>]*>/gi;
const CHARSET = /\bcharset\s*=\s*["']?\s*([^\s"'>;/]+)/i;
/** The HTML standard looks for the `<meta>` declaration in the first 1024 bytes. */
const PRESCAN_BYTES = 1024;

/**
 * The HTML standard's order, with the sniffing browsers add where a declaration is plainly wrong: a
 * byte order mark; else the encoding a `<meta>` in the first 1024 bytes declares (UTF-16 declared in
 * the bytes themselves means UTF-8, as the standard says), except that non-ASCII bytes that are valid
 * UTF-8 are read as UTF-8 whatever the declaration (no legacy-encoded text forms valid UTF-8), and a
 * declared UTF-8 the bytes break is left to the text reader's detection (windows-1256/1258, or UTF-8
 * with U+FFFD and `invalid-utf8`); else, with nothing declared, that detection. Overriding a
 * declaration is said in `notices`. A fetched page's `transport` charset (its response's Content-Type)
 * comes before the `<meta>`, as the standard puts the transport layer's, and is checked the same way.
 */
export function decodeHtml(bytes: Buffer, path: string, transport: string | null = null): HtmlDecoding {
  const sent = bomEncoding(bytes) ? undefined : knownEncoding(transport);
  const declared = bomEncoding(bytes) ? undefined : (sent ?? declaredEncoding(bytes));
  if (!declared) return detected(bytes, path);
  const where = sent ? 'in the Content-Type it was served with' : 'in its <meta>';
  const utf8 = decodeUtf8(bytes);
  if (declared.encoding === 'utf-8') {
    if (!utf8.invalid) return { encoding: 'utf-8', text: utf8.text, warnings: [], notices: [] };
    const fallback = detected(bytes, path);
    if (fallback.encoding === 'utf-8') return fallback;
    return {
      ...fallback,
      notices: [
        `${path}: declares charset utf-8 ${where}, but its bytes are not valid UTF-8; read as ${fallback.encoding}, which they are; fix the <meta charset> or re-save the page as UTF-8`,
      ],
    };
  }
  if (!utf8.invalid && hasNonAscii(bytes)) {
    return {
      encoding: 'utf-8',
      text: utf8.text,
      warnings: [],
      notices: [
        `${path}: declares charset ${declared.encoding} ${where}, but its bytes are valid UTF-8, which ${declared.encoding} text almost never is; read as UTF-8; fix the <meta charset>`,
      ],
    };
  }
  return { encoding: declared.encoding, text: declared.decode(bytes), warnings: [], notices: [] };
}

/** The text reader's detection; a BOM is its first step. */
function detected(bytes: Buffer, path: string): HtmlDecoding {
  const decoding = decodeBytes(bytes, path);
  return {
    encoding: decoding.encoding,
    text: decoding.text,
    warnings: decoding.invalid ? [invalidBytesWarning(path, decoding)] : [],
    notices: [],
  };
}

function hasNonAscii(bytes: Buffer): boolean {
  return bytes.some((byte) => byte > 0x7f);
}

function bomEncoding(bytes: Buffer): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** A charset label as a decoder; undefined for none or a label no browser knows. */
function knownEncoding(label: string | null): TextDecoder | undefined {
  if (!label) return undefined;
  try {
    return new TextDecoder(label);
  } catch {
    return undefined;
  }
}

function declaredEncoding(bytes: Buffer): TextDecoder | undefined {
  const head = bytes
    .subarray(0, PRESCAN_BYTES)
    .toString('latin1')
    .replace(/<!--[\s\S]*?-->/g, '');
  for (const [tag] of head.matchAll(META_TAG)) {
    const label = CHARSET.exec(tag)?.[1];
    if (!label) continue;
    try {
      const decoder = new TextDecoder(label);
      return decoder.encoding.startsWith('utf-16') ? new TextDecoder('utf-8') : decoder;
    } catch {
      // A label no browser knows is passed over, as the standard says.
    }
  }
  return undefined;
}
