import type { LanguageCode, SummarizedArticle, TranslatedParagraph } from '../article.js';
import { directionOf, MIXED_LANGUAGE, TARGET_LANGUAGE } from '../languages.js';
import { articleHeading } from './heading.js';

/** Stage 7, write, for people: the article as bilingual `<id>.md`. Rendering is pure; the pipeline writes the file. */

/**
 * A block of text in its own direction. The blank lines around the content make CommonMark renderers
 * (GitHub, VS Code) treat the inside as Markdown rather than raw HTML.
 */
function block(lang: LanguageCode, text: string, dir: 'rtl' | 'ltr' = directionOf(lang, text)): string {
  const langAttribute = lang === 'und' ? '' : ` lang="${lang}"`;
  return `<div dir="${dir}"${langAttribute}>\n\n${text}\n\n</div>`;
}

/** Backslash-escapes what Markdown or HTML would otherwise interpret inside article text. */
function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]<>#|~]/g, (character) => `\\${character}`)
    .replace(/^(\s*)([-+=]|\d+[.)])(?=\s|$)/, (_match, space: string, marker: string) => `${space}\\${marker}`);
}

/** Characters that would end a Markdown line or hide in it: line breaks and other controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;

/**
 * Text from a path or a message, for one line of Markdown: escaped like article text, and line
 * breaks and other control characters shown as `\u000a` so that a file name cannot start a new
 * block. Paths go in as text, not as code spans: a backtick in a name would close the span.
 */
function escapeInline(text: string): string {
  return escapeMarkdown(text).replace(CONTROL, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const BULLET_MARKER = /^\s*[-*+•·▪●◦–—]\s*/u;

function unavailable(article: SummarizedArticle): string {
  return `_(translation unavailable: ${article.translation.status})_`;
}

/** Stands for a sentence without a target while the paragraph's English is escaped (text has no NUL). */
const MISSING = '\u0000';

function englishOf(paragraph: TranslatedParagraph, article: SummarizedArticle, strip?: RegExp): string {
  if (paragraph.sentences.every((sentence) => sentence.target === null)) return unavailable(article);
  const raw = paragraph.sentences.map((sentence) => sentence.target ?? MISSING).join(' ');
  return escapeMarkdown(strip ? raw.replace(strip, '') : raw).replaceAll(MISSING, '_(untranslated)_');
}

/** Source then English; English once when it is the source itself (English text passed through). */
function bilingual(lang: LanguageCode, source: string, english: string, prefix = ''): string {
  const sourceText = prefix + escapeMarkdown(source);
  if (english === escapeMarkdown(source)) return block(lang, sourceText);
  return `${block(lang, sourceText)}\n\n${block(TARGET_LANGUAGE, prefix + english, 'ltr')}`;
}

/** The languages of a mixed article's paragraphs, in order of first appearance. */
function mixedLanguages(article: SummarizedArticle): string[] {
  return [...new Set(article.paragraphs.map((paragraph) => paragraph.language.lang))];
}

/** Bilingual Markdown: title, summary first, then every paragraph in the source and in English. */
export function renderArticleMarkdown(article: SummarizedArticle): string {
  const lang = article.language.lang;
  const titleParagraph = article.paragraphs.find((paragraph) => paragraph.kind === 'title');
  const parts: string[] = [];

  // Without a title line, the English of the first sentence (or its source) heads the file (`articleHeading`).
  const heading = articleHeading(article);
  if (titleParagraph) {
    parts.push(bilingual(titleParagraph.language.lang, titleParagraph.text, englishOf(titleParagraph, article), '# '));
  } else if (heading.english !== null) {
    parts.push(block(TARGET_LANGUAGE, `# ${escapeInline(heading.english)}`, 'ltr'));
  } else if (heading.from !== 'id') {
    parts.push(block(heading.source.lang, `# ${escapeInline(heading.source.text)}`));
  } else {
    parts.push(`# ${escapeInline(article.id)}`);
  }

  const details = [
    `Article ${escapeInline(article.id)}`,
    `Source: ${escapeInline(article.source.path)} (${article.source.encoding})`,
    `language: ${lang} (${lang === MIXED_LANGUAGE ? `mixed: ${mixedLanguages(article).join(', ')}; ` : ''}${article.language.confidence.toFixed(2)})`,
    `translation: ${article.translation.status}`,
  ];
  parts.push(`> ${details.join(' · ')}`);
  if (article.translation.message) parts.push(`> ${escapeInline(article.translation.message)}`);

  parts.push('## Summary');
  if (article.summary.pairs.length === 0) parts.push('_(no summary: the article has no sentences)_');
  const sentenceLanguages = article.paragraphs.flatMap((paragraph) => paragraph.sentences.map(() => paragraph.language.lang));
  article.summary.pairs.forEach((pair, position) => {
    const index = article.summary.indices[position];
    const pairLang = (index !== undefined ? sentenceLanguages[index] : undefined) ?? lang;
    const english = pair.target === null ? unavailable(article) : escapeMarkdown(pair.target);
    parts.push(bilingual(pairLang, pair.source, english, `${position + 1}. `));
  });

  parts.push('## Article');
  for (const paragraph of article.paragraphs) {
    if (paragraph === titleParagraph) continue;
    const isBullet = paragraph.kind === 'bullet';
    const source = isBullet ? paragraph.text.replace(BULLET_MARKER, '') : paragraph.text;
    const english = englishOf(paragraph, article, isBullet ? BULLET_MARKER : undefined);
    const note = paragraph.flags.includes('foreign-language') ? '\n\n_(kept as it is: not in the article’s language)_' : '';
    parts.push(bilingual(paragraph.language.lang, source, english, isBullet ? '- ' : '') + note);
  }

  if (article.removed.length > 0) {
    parts.push(
      `<details><summary>Removed lines (${article.removed.length})</summary>\n\n` +
        article.removed.map((line) => `- line ${line.line} (${line.reason}): ${escapeMarkdown(line.text)}`).join('\n') +
        '\n\n</details>',
    );
  }
  return `${parts.join('\n\n')}\n`;
}
