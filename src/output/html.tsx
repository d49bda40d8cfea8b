// JSX settings in the file as well as in tsconfig.json, so tsx compiles it right from any working directory.
/** @jsxRuntime automatic @jsxImportSource preact */
import type {
  ArticleReason,
  ArticleStatus,
  LanguageCode,
  PageInfo,
  SentenceFlag,
  SentenceTerm,
  SummarizedArticle,
  TranslatedSentence,
  TranslationStatus,
} from '../article.js';
import { articleHeading, headingText } from './heading.js';
import { languageName, renderPage } from './html-page.js';
import { directionOf } from '../languages.js';

/**
 * `<id>.html`: the article for people in a browser. The source and the English side by side, one
 * grid row per sentence so both sides of a sentence start on the same line; summary pairs first;
 * QA flags as visible marks; the removed boilerplate in a collapsed section. On a narrow screen the
 * English stacks under its source sentence.
 */

export interface PageStatus {
  status: ArticleStatus;
  reason?: ArticleReason;
  /** What happened and how to fix it (the article outcome's message). */
  message?: string;
}

/** The short label each QA flag shows, and the meaning it stands for (its `title` and the legend). */
export const FLAG_MEANINGS: Record<SentenceFlag, { label: string; meaning: string }> = {
  'repetition-loop': {
    label: 'repeats itself',
    meaning: 'The English repeats a phrase in a loop: the model got stuck. Check it against the source.',
  },
  'length-ratio': {
    label: 'odd length',
    meaning: 'The English is much shorter or longer than the source: something may be missing or added.',
  },
  'split-long-input': {
    label: 'split',
    meaning: 'The source was longer than the model takes, so it was translated in pieces.',
  },
  passthrough: {
    label: 'kept as is',
    meaning: 'Not translated: the text is English already, or in another language than the article.',
  },
  'number-missing': {
    label: 'number missing',
    meaning: 'A number in the source is not in the English: check figures and dates.',
  },
  'latin-token-missing': {
    label: 'name missing',
    meaning: 'A name or code in Latin letters in the source is not in the English.',
  },
  'address-missing': {
    label: 'address missing',
    meaning: 'A web or e-mail address in the source is not in the English.',
  },
  'term-missing': {
    label: 'term missing',
    meaning: 'A glossary term of the source could not be put in the English.',
  },
};

/** What the English side says for a sentence without a translation, by the article's translation status. */
const NO_ENGLISH: Record<TranslationStatus, string> = {
  translated: 'no English for this sentence',
  passthrough: 'no English for this sentence',
  partial: 'no English: this sentence failed to translate',
  'model-unavailable': 'no English: the translation model is not installed',
  'unsupported-language': 'no English: no translation model for this language',
  'over-budget': 'no English: past the translation budget for one article (translation.maxArticleChars)',
};

const ARTICLE_CSS = `
.back { font-size: .9rem; }
.meta { margin: .25rem 0 0; font-size: .875rem; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr); margin: 0; }
.pair > * { margin: 0; min-width: 0; }
.pair > .english { margin-top: .15rem; padding-inline-start: .6rem; border-inline-start: 2px solid var(--rule); }
.columns { display: none; }
.title-pair { margin: .75rem 0 .5rem; }
.title-pair > * { font-size: 1.6rem; line-height: 1.35; font-weight: 700; }
.title-pair > .english { font-size: 1.25rem; font-weight: 600; }
.paragraph { margin: 0 0 1.25rem; }
.paragraph > .pair + .pair { margin-top: .4rem; }
.summary { margin: 0; padding: 0; list-style: none; }
.summary > .pair { padding: .5rem 0; border-bottom: 1px solid var(--rule); }
.missing { color: var(--muted); font-style: italic; }
.removed { margin: 2rem 0; }
.removed > summary { cursor: pointer; font-weight: 600; }
.removed ol { padding-inline-start: 1.5rem; }
.removed li { margin: .3rem 0; }
.legend dt { margin-top: .5rem; }
.legend dd { margin: .15rem 0 0 0; }
@media (min-width: 44rem) {
  .pair { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); column-gap: 2.5rem; }
  .pair > .english { margin-top: 0; padding-inline-start: 0; border: 0; }
  .title-pair > .english { font-size: 1.6rem; }
  .rtl-source .pair > .source { grid-column: 2; grid-row: 1; }
  .rtl-source .pair > .english { grid-column: 1; grid-row: 1; }
  .columns {
    display: grid; position: sticky; top: 0; z-index: 1; padding: .3rem 0; margin-bottom: .75rem;
    background: var(--bg); border-bottom: 1px solid var(--rule);
    color: var(--muted); font-size: .8rem; font-weight: 600; letter-spacing: .04em; text-transform: uppercase;
  }
}
@media print {
  .columns { position: static; }
  .pair { break-inside: avoid; }
}
`;

/** HTML's `translate="no"`: Preact types the attribute as a boolean, which is not what HTML takes. */
const NO_TRANSLATE = { translate: 'no' } as unknown as { translate: boolean };

/**
 * The English with what the source page marks not to be translated (the sentence's `markup` terms)
 * kept in `<span translate="no">`, so a browser's translator leaves it alone here too.
 */
function EnglishText({ target, terms }: { target: string; terms: readonly SentenceTerm[] }) {
  const kept = [...new Set(terms.filter((term) => term.kind === 'markup' && term.present).map((term) => term.target))];
  if (kept.length === 0) return <>{target}</>;
  const escaped = kept.sort((a, b) => b.length - a.length).map((text) => text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&'));
  // A capturing split keeps the marked texts at the odd indices.
  const parts = target.split(new RegExp(`(${escaped.join('|')})`, 'u'));
  return <>{parts.map((part, i) => (i % 2 === 1 ? <span {...NO_TRANSLATE}>{part}</span> : part))}</>;
}

/** A sentence's English cell: the text with its flags, or what is missing and why. */
function English({
  target,
  flags,
  terms = [],
  missing,
}: {
  target: string | null;
  flags: readonly SentenceFlag[];
  terms?: readonly SentenceTerm[];
  missing: string;
}) {
  if (target === null) {
    return (
      <p class="english missing" lang="en" dir="ltr">
        ({missing})
      </p>
    );
  }
  return (
    <p class="english" lang="en" dir="ltr">
      {/* Its own isolate, so a direction override inside the text cannot reach the marks after it. */}
      <span dir="ltr">
        <EnglishText target={target} terms={terms} />
      </span>
      {flags.map((flag) => (
        <mark class="flag" title={FLAG_MEANINGS[flag].meaning} data-flag={flag}>
          {FLAG_MEANINGS[flag].label}
        </mark>
      ))}
    </p>
  );
}

/** `lang` and `dir` for text in a source language; no `lang` when the language is undetermined. */
export function sourceAttributes(lang: LanguageCode, text: string): { lang?: string; dir: 'rtl' | 'ltr' } {
  return { ...(lang === 'und' ? {} : { lang }), dir: directionOf(lang, text) };
}

function Source({ lang, text }: { lang: LanguageCode; text: string }) {
  return (
    <p class="source" {...sourceAttributes(lang, text)}>
      {text}
    </p>
  );
}

function SentencePair({ lang, sentence, missing }: { lang: LanguageCode; sentence: TranslatedSentence; missing: string }) {
  return (
    <div class="pair">
      <Source lang={lang} text={sentence.source} />
      <English target={sentence.target} flags={sentence.flags} terms={sentence.terms} missing={missing} />
    </div>
  );
}

/**
 * The page's heading (`articleHeading`): the title line in the source beside its English; else the
 * English of the first sentence, or its source when it has none; else the id.
 */
function Title({ article, missing }: { article: SummarizedArticle; missing: string }) {
  const heading = articleHeading(article);
  const titleLine = article.paragraphs.find((paragraph) => paragraph.kind === 'title');
  if (titleLine) {
    return (
      <h1 class="pair title-pair">
        <span class="source" {...sourceAttributes(titleLine.language.lang, titleLine.text)}>
          {titleLine.text}
        </span>
        {heading.english === null ? (
          <span class="english missing" lang="en" dir="ltr">
            ({missing})
          </span>
        ) : (
          <span class="english" lang="en" dir="ltr">
            {heading.english}
          </span>
        )}
      </h1>
    );
  }
  const attributes =
    heading.english !== null
      ? { lang: 'en', dir: 'ltr' as const }
      : heading.from === 'id'
        ? { dir: 'auto' as const }
        : sourceAttributes(heading.source.lang, heading.source.text);
  return (
    <h1 class="title-pair">
      <span {...attributes}>{headingText(heading)}</span>
    </h1>
  );
}

function StatusBanner({ page, article }: { page: PageStatus; article: SummarizedArticle }) {
  if (page.status === 'ok' && page.reason === undefined) return null;
  const message = page.message ?? article.translation.message;
  return (
    <div class={`banner status-${page.status}`} role="status">
      <p>
        <strong class={`badge status-${page.status}`}>{page.status}</strong>
        {page.reason !== undefined && (
          <>
            {' '}
            <bdi class="reason">{page.reason}</bdi>
          </>
        )}
      </p>
      {message !== undefined && <p dir="auto">{message}</p>}
    </div>
  );
}

/**
 * What a web page said about itself. The canonical URL is shown as text, not a link: a page never
 * takes a URL from its input.
 */
function WebPage({ page }: { page: PageInfo }) {
  const facts = [
    page.siteName !== null && (
      <>
        from <bdi>{page.siteName}</bdi>
      </>
    ),
    page.byline !== null && (
      <>
        by <bdi>{page.byline}</bdi>
      </>
    ),
    page.published !== null && (
      <>
        published <bdi>{page.published}</bdi>
      </>
    ),
    page.canonicalUrl !== null && <span dir="ltr">{page.canonicalUrl}</span>,
    <>
      extracted with <bdi>{page.extraction}</bdi>
    </>,
  ].filter((fact) => fact !== false);
  return (
    <p class="meta muted page-meta">
      Web page{' '}
      {facts.map((fact, index) => (
        <>
          {index > 0 && ' · '}
          {fact}
        </>
      ))}
    </p>
  );
}

/** The path from the page up to the output directory, where `index.html` is: `news/001` → `../index.html`. */
export function digestHref(id: string): string {
  return `${'../'.repeat(id.split('/').length - 1)}index.html`;
}

/** The column headings; they stay in view while their section scrolls by (wide screens only). */
function Columns({ lang }: { lang: LanguageCode }) {
  return (
    <div class="pair columns" aria-hidden="true">
      <span class="source">{languageName(lang)} · source</span>
      <span class="english">English</span>
    </div>
  );
}

function Legend({ flags }: { flags: ReadonlySet<SentenceFlag> }) {
  if (flags.size === 0) return null;
  return (
    <section class="legend" aria-labelledby="flags-heading">
      <h2 id="flags-heading">Flags</h2>
      <dl>
        {[...flags].map((flag) => (
          <>
            <dt>
              <mark class="flag" data-flag={flag}>
                {FLAG_MEANINGS[flag].label}
              </mark>
            </dt>
            <dd>{FLAG_MEANINGS[flag].meaning}</dd>
          </>
        ))}
      </dl>
    </section>
  );
}

/** The whole `<id>.html` page. Pure: the article and its status in, the document's text out. */
export function renderArticleHtml(article: SummarizedArticle, page: PageStatus): string {
  const lang = article.language.lang;
  const missing = NO_ENGLISH[article.translation.status];
  const sentences = article.paragraphs.flatMap((paragraph) =>
    paragraph.sentences.map((sentence) => ({ lang: paragraph.language.lang, flags: sentence.flags })),
  );
  const body = article.paragraphs.filter((paragraph) => paragraph.kind !== 'title');
  const flags = new Set(article.paragraphs.flatMap((paragraph) => paragraph.sentences.flatMap((sentence) => sentence.flags)));
  const rtl = directionOf(lang, article.paragraphs[0]?.text ?? '') === 'rtl';

  return renderPage({
    title: headingText(articleHeading(article)),
    css: ARTICLE_CSS,
    children: (
      <div class={rtl ? 'rtl-source' : undefined}>
        <header>
          <nav class="back screen-only">
            <a href={digestHref(article.id)}>← All articles</a>
          </nav>
          <StatusBanner page={page} article={article} />
          <Title article={article} missing={missing} />
          <p class="meta muted">
            Article <bdi class="article-id">{article.id}</bdi> · Source <bdi>{article.source.path}</bdi> (
            <bdi>{article.source.encoding}</bdi>) · {languageName(lang)} ({lang}, {article.language.confidence.toFixed(2)}) · translation:{' '}
            {article.translation.status}
            {article.translation.models.map((model) => (
              <>
                {' '}
                · <bdi>{model.id}</bdi> ({model.dtype})
              </>
            ))}
          </p>
          {article.page && <WebPage page={article.page} />}
        </header>
        <main>
          <section aria-labelledby="summary-heading">
            <h2 id="summary-heading">Summary</h2>
            <Columns lang={lang} />
            {article.summary.pairs.length === 0 ? (
              <p class="missing">No summary: the article has no sentences.</p>
            ) : (
              <ol class="summary">
                {article.summary.pairs.map((pair, position) => {
                  const index = article.summary.indices[position];
                  const sentence = index !== undefined ? sentences[index] : undefined;
                  return (
                    <li class="pair">
                      <Source lang={sentence?.lang ?? lang} text={pair.source} />
                      <English target={pair.target} flags={sentence?.flags ?? []} missing={missing} />
                    </li>
                  );
                })}
              </ol>
            )}
          </section>
          <section aria-labelledby="article-heading">
            <h2 id="article-heading">Article</h2>
            <Columns lang={lang} />
            {body.map((paragraph) => (
              <div class={`paragraph ${paragraph.kind}`} data-line={paragraph.line}>
                {paragraph.sentences.map((sentence) => (
                  <SentencePair lang={paragraph.language.lang} sentence={sentence} missing={missing} />
                ))}
              </div>
            ))}
          </section>
          <Legend flags={flags} />
          {article.removed.length > 0 && (
            <details class="removed">
              <summary>Removed lines ({article.removed.length}): boilerplate the cleaner took out, with the reason</summary>
              <ol>
                {article.removed.map((line) => (
                  <li>
                    <span class="muted">line {line.line}</span> <bdi class="badge">{line.reason}</bdi> <span dir="auto">{line.text}</span>
                  </li>
                ))}
              </ol>
            </details>
          )}
          {article.page && article.page.removed.length > 0 && (
            <details class="removed">
              <summary>
                Taken out of the web page ({article.page.removed.length}): what the extraction rules removed, with the reason
              </summary>
              <ol>
                {article.page.removed.map((removed) => (
                  <li>
                    <bdi class="badge">{removed.reason}</bdi> <span dir="auto">{removed.text}</span>
                  </li>
                ))}
              </ol>
            </details>
          )}
        </main>
      </div>
    ),
  });
}
