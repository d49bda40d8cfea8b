import type { FetchReport, PageOutcome } from './fetch-night.js';

/** The fetch report as `newsbridge fetch` prints it: one summary line, then each problem with its reason. */

const OUTCOME_WORDS: Record<PageOutcome, string> = {
  fetched: 'fetched',
  'not-modified': 'not modified',
  unchanged: 'unchanged (same bytes again)',
  'robots-disallowed': 'skipped by robots.txt',
  failed: 'failed',
  'max-articles': 'left for the next night (fetch.maxArticles)',
};

export function renderFetchReport(report: FetchReport): string {
  const feedCounts = countBy(report.feeds.map((feed) => feed.outcome));
  const feeds = `${report.feeds.length} feed${report.feeds.length === 1 ? '' : 's'} (${Object.entries(feedCounts)
    .map(([outcome, count]) => `${count} ${outcome.replace('-', ' ')}`)
    .join(', ')})`;
  const pages = (Object.keys(OUTCOME_WORDS) as PageOutcome[])
    .filter((outcome) => report.counts[outcome] > 0 || outcome === 'fetched')
    .map((outcome) => `${report.counts[outcome]} ${OUTCOME_WORDS[outcome]}`)
    .join(', ');
  const lines = [`fetch: ${feeds}; ${report.pages.length} pages: ${pages}${report.interrupted ? '; interrupted' : ''}`];
  for (const feed of report.feeds) {
    if (feed.message) lines.push(`  feed ${feed.outcome}: ${feed.message}`);
    for (const warning of feed.warnings) lines.push(`  feed warning: ${warning}`);
  }
  for (const page of report.pages) {
    if (page.outcome === 'failed') lines.push(`  failed ${page.reason}: ${page.url}: ${page.message}`);
    if (page.outcome === 'robots-disallowed') lines.push(`  robots.txt: ${page.url}: ${page.message}`);
  }
  return lines.join('\n');
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
