import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig, type PipelineConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { FetchReport } from '../fetch/fetch-night.js';
import { fetchFeeds, readFeedsFile } from '../fetch/fetch-feeds.js';
import { renderFetchReport } from '../fetch/report.js';
import { writeLine } from './printable.js';

interface FetchFlags {
  config?: string;
  feeds?: string;
}

/** Exit codes of `newsbridge fetch`, as documented in docs/fetching.md. */
export const FETCH_EXIT = { ok: 0, usage: 1, problems: 2, interrupted: 130 } as const;

/** `newsbridge fetch`: the night's new or changed article pages from input.feeds, saved under fetch.dir. */
export function registerFetchCommand(program: Command): void {
  program
    .command('fetch')
    .description("Fetch the night's new or changed articles from the feeds and sitemaps of input.feeds into fetch.dir.")
    .option('--config <file>', `pipeline config (default: ${DEFAULT_CONFIG_FILE} when present, else the defaults)`)
    .option('--feeds <file>', 'feed or sitemap URLs, one per line, instead of input.feeds')
    .addHelpText(
      'after',
      '\nExit codes: 0 every feed read and every page fetched or unchanged (robots.txt refusals included); 2 some feed or page failed;\n1 usage or config error; 130 interrupted (SIGINT): requests in flight finished, the rest left for the next night.',
    )
    .action(async (flags: FetchFlags) => {
      let config: PipelineConfig;
      try {
        config = (await loadConfig(flags.config)).config;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        writeLine(process.stderr, error.message);
        process.exitCode = FETCH_EXIT.usage;
        return;
      }
      const report = await fetchStep(config, flags);
      process.exitCode = report === 'usage' ? FETCH_EXIT.usage : fetchExitCode(report);
    });
}

export function fetchExitCode(report: FetchReport | null): number {
  if (!report) return FETCH_EXIT.ok;
  if (report.interrupted) return FETCH_EXIT.interrupted;
  const failed = report.counts.failed + report.feeds.filter((feed) => feed.outcome === 'failed').length;
  return failed > 0 ? FETCH_EXIT.problems : FETCH_EXIT.ok;
}

/**
 * The fetch as `fetch` and `run --fetch` do it: a progress bar on a terminal, the report on stderr;
 * 'usage' once a config problem is printed; null when there are no feeds (nothing is touched).
 */
export async function fetchStep(config: PipelineConfig, flags: FetchFlags): Promise<FetchReport | null | 'usage'> {
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(FETCH_EXIT.interrupted);
    process.stderr.write('\nSIGINT: finishing the requests in flight; SIGINT again to stop at once\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  const bar =
    process.stderr.isTTY && !process.env.CI
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: ' {bar} {value}/{total} pages | {outcome}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
  try {
    const feeds = flags.feeds === undefined ? undefined : await readFeedsFile(flags.feeds);
    const report = await fetchFeeds(config, {
      feeds,
      configFile: flags.config ?? DEFAULT_CONFIG_FILE,
      signal: stop.signal,
      events: {
        onPlanned: (pages) => bar?.start(pages, 0, { outcome: '' }),
        onPage: (page) => bar?.increment({ outcome: `${page.outcome} ${page.url}` }),
      },
    });
    bar?.stop();
    writeLine(process.stderr, report ? renderFetchReport(report) : 'fetch: no feeds in input.feeds (nor --feeds); nothing fetched');
    return report;
  } catch (error) {
    bar?.stop();
    if (!(error instanceof ConfigError)) throw error;
    writeLine(process.stderr, error.message);
    return 'usage';
  } finally {
    process.off('SIGINT', onSignal);
  }
}
