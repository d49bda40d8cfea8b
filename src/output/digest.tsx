// JSX settings in the file as well as in tsconfig.json, so tsx compiles it right from any working directory.
/** @jsxRuntime automatic @jsxImportSource preact */
import type { ArticleReason, ArticleStatus, LanguageCode, LanguageGuess } from '../article.js';
import type { RunReport } from '../run/report.js';
import { articleHeading } from './heading.js';
import { sourceAttributes } from './html.js';
import { languageName, renderPage } from './html-page.js';
import type { ArticleOutput, ManifestLine } from './schema.js';

/**
 * `index.html`: the run's digest. The run's problems first, then every article with its status,
 * language, English title and English summary, linking to its page. Sorting by status or language
 * is CSS alone: three radio buttons reorder the list (flex `order`), so the page needs no script.
 */

/** The file name of the digest in the output directory; no article's page may take it. */
export const DIGEST_FILE = 'index.html';

/** One article as the digest shows it. */
export interface DigestEntry {
  id: string;
  status: ArticleStatus;
  reason?: ArticleReason;
  /** What happened and how to fix it. */
  message?: string;
  /** For a `skipped` article: the status and reason of the outputs it kept. */
  kept?: { status: 'ok' | 'partial'; reason?: string };
  /** Null when the article was not read. */
  language: LanguageGuess | null;
  /**
   * What heads the entry (`articleHeading`): the title, or for an article without one its first
   * sentence, in the source and in English (null when it has none); null when it has neither.
   */
  title: { source: string; lang: LanguageCode; english: string | null } | null;
  /** English summary sentences; null for one without a translation. */
  summary: (string | null)[];
  /** The article's page relative to the output directory, when one is there. */
  page?: string;
  /** For a fetched page: its URL and the feed's date for it. */
  fetched?: { url: string; feedDate: string | null };
}

/** The digest entry of an article whose JSON output was made (this run or, when skipped, an earlier one). */
export function digestEntryFromOutput(
  output: ArticleOutput,
  from: {
    status: ArticleStatus;
    reason?: ArticleReason;
    message?: string;
    kept?: DigestEntry['kept'];
    page?: string;
  },
): DigestEntry {
  const heading = articleHeading(output);
  return {
    id: output.id,
    status: from.status,
    ...(from.reason !== undefined ? { reason: from.reason } : {}),
    ...(from.message !== undefined ? { message: from.message } : {}),
    ...(from.kept !== undefined ? { kept: from.kept } : {}),
    language: output.language,
    title: heading.from === 'id' ? null : { source: heading.source.text, lang: heading.source.lang, english: heading.english },
    summary: output.summary.pairs.map((pair) => pair.target),
    ...(from.page !== undefined ? { page: from.page } : {}),
    ...(output.fetched ? { fetched: { url: output.fetched.url, feedDate: output.fetched.feedDate } } : {}),
  };
}

/** The digest entry of an article known only by its manifest line (one an interrupted run never started). */
export function digestEntryFromManifest(line: ManifestLine): DigestEntry {
  return {
    id: line.id,
    status: line.status,
    ...(line.reason !== undefined ? { reason: line.reason } : {}),
    ...(line.output !== undefined ? { kept: line.output } : {}),
    language: line.language,
    title: null,
    summary: line.summary,
    ...(line.outputs.html !== undefined ? { page: line.outputs.html } : {}),
  };
}

/** Problems first in the status sort: the order the `order` property gives each status. */
const STATUS_ORDER: Record<ArticleStatus, number> = { failed: 0, partial: 1, ok: 2, skipped: 3 };

/** Languages in code order, undetermined and unknown last: a rank per language for the language sort. */
function languageRanks(entries: readonly DigestEntry[]): Map<string | null, number> {
  const codes = [...new Set(entries.map((entry) => entry.language?.lang ?? null))];
  const key = (code: string | null) => (code === null ? '\uffff\uffff' : code === 'und' ? '\uffff' : code);
  codes.sort((a, b) => key(a).localeCompare(key(b)));
  return new Map(codes.map((code, rank) => [code, rank]));
}

/**
 * The stylesheet: the sort rules depend on the run (one rank per language); they hold only numbers
 * and fixed names, never a language code or any other input.
 */
function digestCss(languageCount: number): string {
  const sorts = ['input', 'status', 'language'];
  const statusRules = Object.entries(STATUS_ORDER).map(
    ([status, order]) => `#sort-status:checked ~ .articles > [data-status="${status}"] { order: ${order}; }`,
  );
  const languageRules = Array.from(
    { length: languageCount },
    (_, rank) => `#sort-language:checked ~ .articles > [data-lang-rank="${rank}"] { order: ${rank}; }`,
  );
  return `
.run { margin: .25rem 0 0; }
.problems h2 { margin: .25rem 0; font-size: 1rem; }
.problems ul { margin: .25rem 0; padding-inline-start: 1.25rem; }
.sort-radio { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.sort { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0 1rem; font-size: .9rem; }
.sort label { padding: .1rem .75rem; border: 1px solid var(--rule); border-radius: 999px; cursor: pointer; }
${sorts.map((sort) => `#sort-${sort}:checked ~ .sort label[for="sort-${sort}"] { background: var(--accent); border-color: var(--accent); color: var(--bg); }`).join('\n')}
${sorts.map((sort) => `#sort-${sort}:focus-visible ~ .sort label[for="sort-${sort}"] { outline: 2px solid var(--accent); outline-offset: 2px; }`).join('\n')}
.articles { display: flex; flex-direction: column; margin: 0; padding: 0; list-style: none; }
.entry { padding: .9rem 0; border-top: 1px solid var(--rule); }
.entry > * { margin: .2rem 0; }
.entry h3 { margin: .3rem 0; font-size: 1.1rem; line-height: 1.4; }
.entry-head { font-size: .85rem; }
.source-title { font-size: .95rem; }
${statusRules.join('\n')}
${languageRules.join('\n')}
@media print {
  .entry { break-inside: avoid; }
}
`;
}

/** A link to an article's page from the output directory, each path segment escaped (`./news/a%3Fb.html`). */
export function pageHref(page: string): string {
  return `./${page.split('/').map(encodeURIComponent).join('/')}`;
}

function EntryTitle({ entry }: { entry: DigestEntry }) {
  const text = entry.title?.english ?? entry.title?.source ?? entry.id;
  const attributes =
    entry.title?.english != null
      ? { lang: 'en', dir: 'ltr' as const }
      : entry.title
        ? sourceAttributes(entry.title.lang, entry.title.source)
        : { dir: 'auto' as const };
  return (
    <h3>
      {entry.page !== undefined ? (
        <a href={pageHref(entry.page)} {...attributes}>
          {text}
        </a>
      ) : (
        <span {...attributes}>{text}</span>
      )}
    </h3>
  );
}

/** A fetched article's origin: its URL (only http(s) ever gets here) and the feed's date for it. */
function FetchedFrom({ fetched }: { fetched: NonNullable<DigestEntry['fetched']> }) {
  return (
    <>
      {' '}
      <a class="muted" href={fetched.url} rel="noreferrer noopener" dir="ltr">
        {URL.canParse(fetched.url) ? new URL(fetched.url).host : fetched.url}
      </a>
      {fetched.feedDate !== null && (
        <>
          {' '}
          <time class="muted" dateTime={fetched.feedDate}>
            {fetched.feedDate}
          </time>
        </>
      )}
    </>
  );
}

function Entry({ entry, index, languageRank }: { entry: DigestEntry; index: number; languageRank: number }) {
  const lang = entry.language?.lang;
  const summary = entry.summary.map((sentence) => sentence ?? '(no English)').join(' ');
  return (
    <li class="entry" id={`article-${index}`} data-status={entry.status} data-lang-rank={languageRank}>
      <p class="entry-head">
        <span class={`badge status-${entry.status}`}>{entry.status}</span>{' '}
        <span class="badge">{lang === undefined ? 'not read' : `${languageName(lang)} · ${lang}`}</span>
        {entry.reason !== undefined && (
          <>
            {' '}
            <bdi class="muted">{entry.reason}</bdi>
          </>
        )}
        {entry.kept?.status === 'partial' && (
          <>
            {' '}
            <span class="status-partial">
              kept partial
              {entry.kept.reason !== undefined && (
                <>
                  {' '}
                  (<bdi>{entry.kept.reason}</bdi>)
                </>
              )}
            </span>
          </>
        )}{' '}
        <bdi class="muted entry-id">{entry.id}</bdi>
        {entry.fetched && <FetchedFrom fetched={entry.fetched} />}
      </p>
      <EntryTitle entry={entry} />
      {entry.title?.english != null && (
        <p class="source-title muted" {...sourceAttributes(entry.title.lang, entry.title.source)}>
          {entry.title.source}
        </p>
      )}
      {summary !== '' && (
        <p class="entry-summary" lang="en" dir="ltr">
          {summary}
        </p>
      )}
      {entry.message !== undefined && (
        <p class="muted" dir="auto">
          {entry.message}
        </p>
      )}
    </li>
  );
}

/** Failed or partial, or skipped with partial outputs kept from an earlier run. */
function needsAttention(entry: DigestEntry): boolean {
  return entry.status === 'failed' || entry.status === 'partial' || entry.kept?.status === 'partial';
}

function Problems({ report, entries }: { report: RunReport; entries: readonly DigestEntry[] }) {
  const troubled = entries.map((entry, index) => ({ entry, index })).filter(({ entry }) => needsAttention(entry));
  if (report.problems.length === 0 && troubled.length === 0 && !report.interrupted) return null;
  return (
    <section class="banner problems status-failed" aria-labelledby="problems-heading">
      <h2 id="problems-heading">Problems</h2>
      <ul>
        {report.interrupted && (
          <li>
            The run was interrupted: {report.articles.notStarted} articles were not started; they are listed as an earlier run left them.
          </li>
        )}
        {report.problems.map((problem) => (
          <li dir="auto">{problem}</li>
        ))}
        {troubled.map(({ entry, index }) => (
          <li>
            <a href={`#article-${index}`}>
              <bdi>{entry.id}</bdi>
            </a>
            : {entry.kept ? `${entry.status}, kept ${entry.kept.status}` : entry.status}
            {(entry.kept?.reason ?? entry.reason) !== undefined && (
              <>
                {' '}
                (<bdi>{entry.kept?.reason ?? entry.reason}</bdi>)
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export interface RunDigest {
  report: RunReport;
  /** Every article of the run, in input order. */
  entries: readonly DigestEntry[];
}

/** The whole `index.html`. Pure: the run report and the entries in, the document's text out. */
export function renderDigestHtml({ report, entries }: RunDigest): string {
  const ranks = languageRanks(entries);
  const { articles } = report;
  const counts = `${articles.ok} ok · ${articles.partial} partial · ${articles.failed} failed · ${articles.skipped} skipped`;
  return renderPage({
    title: 'newsbridge digest',
    css: digestCss(ranks.size),
    children: (
      <>
        <header>
          <h1>newsbridge digest</h1>
          <p class="run muted">
            {articles.total} articles: {counts}. Run finished{' '}
            <time dateTime={report.finishedAt}>{report.finishedAt.replace('T', ' ').slice(0, 16)} UTC</time>.
          </p>
        </header>
        <Problems report={report} entries={entries} />
        <main>
          <h2>Articles</h2>
          <input class="sort-radio" type="radio" name="sort" id="sort-input" checked />
          <input class="sort-radio" type="radio" name="sort" id="sort-status" />
          <input class="sort-radio" type="radio" name="sort" id="sort-language" />
          <div class="sort screen-only">
            <span class="muted">Sort by</span>
            <label for="sort-input">input order</label>
            <label for="sort-status">status</label>
            <label for="sort-language">language</label>
          </div>
          <ol class="articles">
            {entries.map((entry, index) => (
              <Entry entry={entry} index={index} languageRank={ranks.get(entry.language?.lang ?? null) ?? 0} />
            ))}
          </ol>
        </main>
      </>
    ),
  });
}
