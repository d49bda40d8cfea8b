import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig, type PipelineConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { redactUrl } from '../queue/connection.js';
import { writeLine } from './printable.js';

interface ValidateOptions {
  config?: string;
  print?: boolean;
}

/** `newsbridge validate [--config F]`: check a pipeline config; exit 0 when valid, 1 with every issue. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Check a pipeline config: every issue is printed as FILE:LINE:COL: key, what is wrong, what is accepted.')
    .option('--config <file>', `config file (default: ${DEFAULT_CONFIG_FILE} when present, else the defaults)`)
    .option('--print', 'print the effective config (defaults filled in) as JSON')
    .addHelpText('after', '\nExit codes: 0 valid, 1 invalid or unreadable.')
    .action(async (options: ValidateOptions) => {
      try {
        const { config, path } = await loadConfig(options.config);
        const name = options.config ?? DEFAULT_CONFIG_FILE;
        writeLine(process.stdout, path === null ? `no ${name} here; the built-in defaults apply` : `${name}: valid`);
        if (options.print) writeLine(process.stdout, JSON.stringify(printedConfig(config), null, 2));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        writeLine(process.stderr, error.message);
        process.exitCode = 1;
      }
    });
}

/** The config as `--print` shows it: the queue URL without its password. */
function printedConfig(config: PipelineConfig): PipelineConfig {
  return config.queue.url === undefined ? config : { ...config, queue: { ...config.queue, url: redactUrl(config.queue.url) } };
}
