/// <reference lib="dom" />
// linkedom builds a standard DOM; its types and Readability's are the DOM library's.
import { Readability } from '@mozilla/readability';
import { Parser } from 'htmlparser2';
import { parseHTML } from 'linkedom';
import type { DroppedBlockReason, PageMetadata } from '../article.js';
import { defaultConfig, type PipelineConfig } from '../config/config.js';
import { isTimestamp } from './timestamp.js';

/**
 * Article extraction from a web page: Mozilla Readability (on a linkedom DOM) finds the article's
 * container, then rules on the page's structure take out what Readability keeps inside it —
 * captions, related-article lists, share and newsletter prompts, bylines and timestamps — and the
 * blocks become paragraphs, headings and list items each their own. No rule names a site: they read
 * tags, class names, link density and the shape of a block's text, so they hold for pages never seen.
 */

export type BlockKind = 'heading' | 'item' | 'body';

export interface ExtractedBlock {
  kind: BlockKind;
  text: string;
}

/** A block the structure rules took out, and why. */
export interface DroppedBlock {
  text: string;
  reason: DroppedBlockReason;
}

export interface ExtractedArticle {
  found: true;
  /** `readability` here; recorded with the article so outputs say how their text was found. */
  method: typeof EXTRACTION_METHOD;
  meta: PageMetadata;
  blocks: ExtractedBlock[];
  dropped: DroppedBlock[];
  /** Texts of the article the page marks `translate="no"` or `class="notranslate"`, each once, in page order. */
  doNotTranslate: string[];
}

export interface NoArticle {
  found: false;
  /** `too-complex`: the page is past `input.html`'s limits and was not parsed. */
  reason: 'no-article' | 'too-complex';
  meta: PageMetadata;
  /** Why the page holds no article, for the status message. */
  why: string;
}

/** `input.html.maxDepth` and `maxElements`. */
export type PageLimits = Pick<PipelineConfig['input']['html'], 'maxDepth' | 'maxElements'>;

export const EXTRACTION_METHOD = 'readability';

/** Fewest words of article text; below it the page is a stub (a 404, a login wall, a teaser). */
const MIN_ARTICLE_WORDS = 50;
/** Share of a block's text inside links above which it is navigation or a list of other articles. */
const MAX_LINK_SHARE = 0.5;
/** A widget-named element holding more than this share of the text is the article's wrapper, not a widget. */
const MAX_WIDGET_SHARE = 0.5;
/** The attribute `markWidgets` sets; Readability keeps `data-` attributes. */
const WIDGET_MARK = 'data-newsbridge-widget';
/**
 * The attribute `markDoNotTranslate` sets on what the page says is not to be translated (HTML's
 * `translate="no"`, and Google Translate's `class="notranslate"`), so the mark survives Readability.
 */
const DNT_MARK = 'data-newsbridge-notranslate';
const DO_NOT_TRANSLATE = '[translate="no" i], .notranslate';
/** Most words of a block that is only a byline or a timestamp. */
const MAX_LABEL_WORDS = 14;

/** Elements that are never article prose. */
const NOT_PROSE = 'figure, figcaption, picture, nav, aside, form, button, select, noscript, iframe, svg, [hidden], [aria-hidden="true"]';
/**
 * Class or id words that mark widgets and page furniture. Matched as whole words of the attribute
 * (`post-share-bar` has `share`, `shared-content` does not).
 */
const WIDGET_WORD =
  /(?:^|[-_\s])(?:caption|credits?|byline|author|share|sharing|social|related|recommended|newsletter|subscribe|subscription|promo|advert|advertisement|ad|ads|breadcrumbs?|comments?|tags|cookie|disclaimer|signup|sidebar|popular|trending)(?:$|[-_\s])/i;
/** A bare web or mail address: a cited source, which related-article lists never show. */
const CITATION = /^(?:https?:\/\/\S+|\S+@\S+\.\w+)$|\s\S+@\S+\.\w+$/u;
const SENTENCE_END = /[.!?؟。]["'”’»)\]]*$/u;

const BLOCK_TAGS = new Set(['P', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'LI', 'BLOCKQUOTE', 'PRE', 'DD', 'DT', 'TD', 'TH']);
const TEXT_NODE = 3;
const HEADING_TAGS = new Set(['H1', 'H2', 'H3', 'H4', 'H5', 'H6']);
const NESTED_BLOCKS = 'p, h1, h2, h3, h4, h5, h6, li, blockquote, pre, table, ul, ol, dl';

export function extractArticle(html: string, limits: PageLimits = defaultConfig.input.html): ExtractedArticle | NoArticle {
  const tooComplex = pastLimits(html, limits);
  if (tooComplex) return { found: false, reason: 'too-complex', meta: NO_METADATA, why: tooComplex };
  let { document } = parseHTML(html);
  // linkedom builds no <html> for text without a tag; a browser would put that text in the body.
  if (!document.documentElement) document = parseHTML(`<html><body>${html}</body></html>`).document;
  const meta = pageMetadata(document);
  if (document.body) {
    markWidgets(document.body);
    for (const element of document.body.querySelectorAll(DO_NOT_TRANSLATE)) element.setAttribute(DNT_MARK, '');
  }
  // keepClasses: the structure rules read class names; serializer: the content as a DOM node.
  const parsed = new Readability<HTMLElement>(document, { keepClasses: true, serializer: (node) => node as HTMLElement }).parse();
  if (!parsed?.content) return { found: false, reason: 'no-article', meta, why: 'Readability found no article container on the page' };
  const merged: PageMetadata = {
    ...meta,
    title: clean(parsed.title) ?? meta.title,
    byline: clean(parsed.byline) ?? meta.byline,
    published: meta.published ?? clean(parsed.publishedTime),
    siteName: clean(parsed.siteName) ?? meta.siteName,
  };
  const { blocks, dropped } = articleBlocks(parsed.content, merged);
  const words = blocks.reduce((sum, block) => sum + wordCount(block.text), 0);
  if (words < MIN_ARTICLE_WORDS) {
    return {
      found: false,
      reason: 'no-article',
      meta: merged,
      why: `the page's article text is ${words} words (fewer than ${MIN_ARTICLE_WORDS}): a stub, an error page or a login wall`,
    };
  }
  return { found: true, method: EXTRACTION_METHOD, meta: merged, blocks, dropped, doNotTranslate: doNotTranslateTexts(parsed.content) };
}

const NO_METADATA: PageMetadata = { title: null, byline: null, published: null, canonicalUrl: null, siteName: null, lang: null };

/**
 * Why the page is past the limits, or null. Counted by htmlparser2's tokenizer, the parser linkedom
 * builds its DOM with (so implied end tags nest as they will in the DOM), before any DOM exists, and
 * stopped at the first element past a limit: linkedom's parse grows with the square of the depth
 * (200,000 nested `<div>`s take minutes), Readability faster still (it overflows the stack near
 * 8,000 levels), and so does htmlparser2's own bookkeeping once it is past a few hundred levels.
 */
function pastLimits(html: string, limits: PageLimits): string | null {
  let depth = 0;
  let elements = 0;
  let past: string | null = null;
  const raise = (limit: string) => `so its article is not extracted; if it is a real article, raise ${limit} in pipeline.yaml`;
  const counter: Parser = new Parser(
    {
      onopentag() {
        elements++;
        depth++;
        if (depth > limits.maxDepth) {
          past = `the page nests elements more than input.html.maxDepth (${limits.maxDepth}) deep (news pages stay under 60), ${raise('input.html.maxDepth')}`;
        } else if (elements > limits.maxElements) {
          past = `the page has more than input.html.maxElements (${limits.maxElements}) elements (news pages have a few thousand), ${raise('input.html.maxElements')}`;
        }
        if (past) counter.pause();
      },
      onclosetag() {
        depth--;
      },
    },
    { decodeEntities: false },
  );
  counter.write(html);
  return past;
}

/** Read before Readability, which rewrites the document. */
function pageMetadata(document: Document): PageMetadata {
  const metaContent = (selector: string) => clean(document.querySelector(selector)?.getAttribute('content'));
  return {
    title: metaContent('meta[property="og:title"]') ?? clean(document.querySelector('title')?.textContent),
    byline: metaContent('meta[name="author"]'),
    published:
      metaContent('meta[property="article:published_time"]') ?? clean(document.querySelector('time[datetime]')?.getAttribute('datetime')),
    canonicalUrl: clean(document.querySelector('link[rel="canonical"]')?.getAttribute('href')) ?? metaContent('meta[property="og:url"]'),
    siteName: metaContent('meta[property="og:site_name"]'),
    lang: clean(document.documentElement?.getAttribute('lang')),
  };
}

/** The content's blocks in reading order, after the structure rules. */
export function articleBlocks(content: Element, meta: PageMetadata): { blocks: ExtractedBlock[]; dropped: DroppedBlock[] } {
  const dropped: DroppedBlock[] = [];
  const drop = dropper(dropped);
  removeFurniture(content, drop);

  const candidates = contentBlocks(content);

  const title = normalizeForMatch(meta.title ?? '');
  const byline = normalizeForMatch(meta.byline ?? '');
  const keptBlocks = new Map<number, ExtractedBlock>();
  for (const [index, candidate] of candidates.entries()) {
    const { text, kind } = candidate;
    const words = wordCount(text);
    const matchText = normalizeForMatch(text);
    if (candidate.linkShare > MAX_LINK_SHARE && !SENTENCE_END.test(text) && !CITATION.test(text)) drop(text, 'link-list');
    else if (title !== '' && matchText === title) drop(text, 'title-repeat');
    else if (words <= MAX_LABEL_WORDS && byline !== '' && matchText.includes(byline)) drop(text, 'byline');
    else if (words <= MAX_LABEL_WORDS && !SENTENCE_END.test(text) && isTimestamp(text)) drop(text, 'timestamp');
    else keptBlocks.set(index, { kind, text });
  }

  // A heading whose section lost all it had introduced what was taken out ("Related", "More:"); so
  // does a heading at the very end. A heading straight above another heading keeps its place.
  const firstText = [...keptBlocks.entries()].find(([, block]) => block.kind !== 'heading')?.[0] ?? 0;
  const blocks = [...candidates.keys()].flatMap((index) => {
    const block = keptBlocks.get(index);
    if (!block) return [];
    if (block.kind !== 'heading') return [block];
    // Headings above the first paragraph are the title's company (kicker, deck), and the title
    // already leads the text.
    if (index < firstText) {
      drop(block.text, 'header');
      return [];
    }
    let next = index + 1;
    while (next < candidates.length && !keptBlocks.has(next) && candidates[next]!.kind !== 'heading') next++;
    const emptied = next > index + 1 && (next === candidates.length || candidates[next]!.kind === 'heading');
    if (emptied || index === candidates.length - 1) {
      drop(block.text, 'empty-section');
      return [];
    }
    return [block];
  });
  return { blocks, dropped };
}

export interface ContentBlock extends ExtractedBlock {
  /** Share of the block's characters inside links. */
  linkShare: number;
}

/** The blocks of an article container as they are, before any rule: one per paragraph, heading, item or `<br>`-separated line. */
export function contentBlocks(content: Element): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  for (const element of blockElements(content)) {
    const kind: BlockKind = HEADING_TAGS.has(element.tagName) ? 'heading' : element.tagName === 'LI' ? 'item' : 'body';
    for (const line of linesOf(element)) blocks.push({ kind, ...line });
  }
  return blocks;
}

function dropper(dropped: DroppedBlock[]) {
  return (text: string, reason: DroppedBlockReason) => {
    if (text !== '') dropped.push({ text, reason });
  };
}

/**
 * Marks the elements whose class or id names a widget, and everything inside them, before Readability
 * runs: Readability unwraps a `<div class="newsletter">` around one `<p>` into the bare `<p>`, and the
 * class that told would be lost. Marking, not removing, leaves Readability's choice of container as
 * it would be. An element that holds most of the page's text, or is its body, main or article, is not
 * marked whatever its class says (`<body class="has-sidebar">`).
 */
function markWidgets(body: Element): void {
  const total = blockText(body).length;
  for (const element of body.querySelectorAll('[class], [id]')) {
    if (element.matches('body, main, article') || !isWidget(element)) continue;
    if (blockText(element).length > MAX_WIDGET_SHARE * total) continue;
    for (const inside of [element, ...element.querySelectorAll('*')]) inside.setAttribute(WIDGET_MARK, '');
  }
}

/** Takes out captions, navigation, forms, and widgets (by class or id, or marked by `markWidgets`). */
function removeFurniture(root: Element, drop: (text: string, reason: DroppedBlockReason) => void): void {
  for (const element of [...root.querySelectorAll(NOT_PROSE)]) {
    if (!root.contains(element)) continue;
    drop(blockText(element), element.matches('figure, figcaption, picture') ? 'caption' : 'navigation');
    element.remove();
  }
  // Marks over most of the text came from a wrapper around the article itself: they say nothing.
  const marked = [...root.querySelectorAll(`[${WIDGET_MARK}]`)].filter((element) => !element.parentElement?.hasAttribute(WIDGET_MARK));
  const markedText = marked.reduce((sum, element) => sum + blockText(element).length, 0);
  const honorMarks = markedText <= MAX_WIDGET_SHARE * blockText(root).length;
  for (const element of [...root.querySelectorAll(`[class], [id], [${WIDGET_MARK}]`)]) {
    if (!root.contains(element) || !((honorMarks && element.hasAttribute(WIDGET_MARK)) || isWidget(element))) continue;
    drop(blockText(element), 'widget');
    element.remove();
  }
}

function isWidget(element: Element): boolean {
  const words = `${element.getAttribute('class') ?? ''} ${element.getAttribute('id') ?? ''}`;
  return WIDGET_WORD.test(words);
}

/** Innermost block elements: a block that holds other blocks gives its text through them. */
function* blockElements(root: Element): Generator<Element> {
  for (const child of root.children) {
    if (BLOCK_TAGS.has(child.tagName) && !child.querySelector(NESTED_BLOCKS)) yield child;
    else if (child.children.length > 0 && child.querySelector(NESTED_BLOCKS)) yield* blockElements(child);
    else if (wordCount(child.textContent ?? '') > 0) yield child;
  }
}

/** A block's text, one line per `<br>`-separated run, spaces collapsed, with the share of it inside links. */
function linesOf(element: Element): { text: string; linkShare: number }[] {
  const lines = [{ raw: '', linked: 0 }];
  const walk = (node: Node, inLink: boolean) => {
    for (const child of node.childNodes) {
      const line = lines[lines.length - 1]!;
      if (child.nodeType === TEXT_NODE) {
        const text = child.textContent ?? '';
        line.raw += text;
        if (inLink) line.linked += text.replace(/\s+/gu, '').length;
      } else if ((child as Element).tagName === 'BR') {
        lines.push({ raw: '', linked: 0 });
      } else {
        walk(child, inLink || (child as Element).tagName === 'A');
      }
    }
  };
  walk(element, false);
  return lines
    .map(({ raw, linked }) => {
      const text = raw.replace(/\s+/gu, ' ').trim();
      const length = text.replace(/\s+/gu, '').length;
      return { text, linkShare: length === 0 ? 0 : linked / length };
    })
    .filter((line) => line.text !== '');
}

/** The texts of the outermost marked elements the article kept (the structure rules have run), each once. */
function doNotTranslateTexts(content: Element): string[] {
  const marked = [...content.querySelectorAll(`[${DNT_MARK}]`)].filter((element) => !element.parentElement?.closest(`[${DNT_MARK}]`));
  return [...new Set(marked.map(blockText).filter((text) => wordCount(text) > 0))];
}

function blockText(element: Element): string {
  return (element.textContent ?? '').replace(/\s+/gu, ' ').trim();
}

function wordCount(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}

function normalizeForMatch(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function clean(value: string | null | undefined): string | null {
  const text = value?.replace(/\s+/gu, ' ').trim();
  return text ? text : null;
}
