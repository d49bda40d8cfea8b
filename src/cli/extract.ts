import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig, type PipelineConfig } from '../config/config.js';
import { ConfigError, InputError } from '../errors.js';
import type { ReadArticle } from '../input/read.js';
import { readArticleFile } from '../input/read-file.js';
import { printable, writeLine } from './printable.js';

interface ExtractOptions {
  config?: string;
  jsonl?: boolean;
}

/**
 * `newsbridge extract FILE…`: what the reader makes of each file — for a web page the article found
 * in it, title first — to check extraction on its own. A file that gives no article is reported on
 * stderr (exit 2) and the others are still printed.
 */
export function registerExtractCommand(program: Command): void {
  program
    .command('extract')
    .description('Print the article text the reader takes from each file (for a web page: title, then one line per paragraph).')
    .argument('<files...>', 'article files: .html, .htm, .html.gz, .txt, .md')
    .option(
      '--jsonl',
      'one JSON line per file: {"id", "title", "text", "meta"} (meta: the page metadata and extraction method, null for text files)',
    )
    .option('--config <file>', `config file for input.maxBytes and input.html (default: ${DEFAULT_CONFIG_FILE} when present)`)
    .addHelpText('after', '\nExit codes: 0 every file gave an article, 1 bad config, 2 some file gave none (said on stderr).')
    .action(async (files: string[], options: ExtractOptions) => {
      let input: PipelineConfig['input'];
      try {
        input = (await loadConfig(options.config)).config.input;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        writeLine(process.stderr, error.message);
        process.exitCode = 1;
        return;
      }
      let printed = 0;
      for (const file of files) {
        let article: ReadArticle;
        try {
          article = await readArticleFile(file, '.', input.maxBytes, null, { html: input.html });
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          writeLine(process.stderr, error.message);
          process.exitCode = 2;
          continue;
        }
        if (options.jsonl) {
          writeLine(process.stdout, JSON.stringify(extractRecord(article)));
        } else {
          if (files.length > 1) process.stdout.write(`${printed > 0 ? '\n' : ''}==> ${printable(file, { oneLine: true })} <==\n`);
          process.stdout.write(`${article.text}\n`);
        }
        printed++;
      }
    });
}

/** The `--jsonl` record: for a web page the title apart and the body lines as `text`. */
export function extractRecord(article: ReadArticle) {
  const page = article.page ?? null;
  const text = page ? article.text.split('\n').slice(1).join('\n') : article.text;
  return { id: article.id, title: page?.title ?? null, text, meta: page };
}
