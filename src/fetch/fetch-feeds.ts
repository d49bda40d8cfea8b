import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FeedSpec, PipelineConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../output/atomic-write.js';
import { type FetchNightOptions, type FetchReport, fetchNight } from './fetch-night.js';
import { FeedState } from './feed-state.js';
import { politeFetcher } from './fetchers.js';
import { feedsOf } from './plan.js';

/** `newsbridge fetch` and `run --fetch` from a config: the night's fetch, its report written beside the state. */

export const FETCH_REPORT_FILE = 'fetch-report.json';

export interface FetchFeedsOptions {
  /** Feeds instead of input.feeds (`--feeds FILE`). */
  feeds?: readonly FeedSpec[];
  signal?: AbortSignal;
  events?: FetchNightOptions['events'];
  /** The config file, as named in messages. */
  configFile?: string;
}

/** The night's fetch; null when there are no feeds (nothing is touched then). */
export async function fetchFeeds(config: PipelineConfig, options: FetchFeedsOptions = {}): Promise<FetchReport | null> {
  const specs = options.feeds ?? config.input.feeds;
  if (specs.length === 0) return null;
  if (!config.fetch.contact) {
    throw new ConfigError([
      {
        file: options.configFile ?? 'pipeline.yaml',
        line: 0,
        col: 0,
        path: 'fetch.contact',
        problem:
          'is not set: a site must be able to tell who fetches its pages and reach them; set it to your http(s) URL or mailto: address',
      },
    ]);
  }
  const feeds = feedsOf(specs, config.fetch);
  const state = new FeedState(config.fetch.state);
  const fetcher = politeFetcher(config.fetch, feeds);
  try {
    const report = await fetchNight({
      feeds,
      fetcher,
      state,
      dir: config.fetch.dir,
      maxArticles: config.fetch.maxArticles,
      signal: options.signal,
      events: options.events,
    });
    await writeFileAtomic(join(dirname(config.fetch.state), FETCH_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    state.close();
    await fetcher.close();
  }
}

/**
 * `--feeds FILE`: one feed or sitemap URL per line; blank lines and `#` comments are skipped. Each
 * line must be an http(s) URL; the message names the line that is not.
 */
export async function readFeedsFile(path: string): Promise<FeedSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError([{ file: path, line: 0, col: 0, path: '', problem: `cannot be read (${reason}); check the --feeds path` }]);
  }
  const feeds: FeedSpec[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    let url: URL | null = null;
    try {
      url = new URL(line);
    } catch {
      // Reported below with the line.
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      const problem = `"${line}" is not an http(s) URL; give one feed or sitemap URL per line`;
      throw new ConfigError([{ file: path, line: index + 1, col: 1, path: '', problem }]);
    }
    feeds.push(line);
  }
  return feeds;
}
