import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { TranslationMemory, type CacheStats } from '../translation/memory.js';
import { loadConfig } from '../config/config.js';
import { CacheCorruptError } from '../errors.js';
import { formatBytes, reportErrors } from './shared.js';
import { writeLine } from './printable.js';

interface CacheOptions {
  config?: string;
}

/** `newsbridge cache stats|clear`: look into or empty the translation memory named by the config. */
export function registerCacheCommand(program: Command): void {
  const cache = program.command('cache').description('Inspect or empty the translation memory (cache.path in the config).');

  cache
    .command('stats')
    .description('Sentences stored per model, and the size of the cache file.')
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .option('--json', 'print the figures as JSON')
    .action(async (options: CacheOptions & { json?: boolean }) => {
      await reportErrors('cache', async () => {
        const file = await cachePath(options);
        if (!existsSync(file)) {
          writeLine(
            process.stdout,
            options.json ? JSON.stringify({ path: file, bytes: 0, sentences: 0, models: [] }) : `no translation memory at ${file} yet`,
          );
          return;
        }
        const memory = TranslationMemory.open(file);
        try {
          const stats = memory.stats();
          writeLine(process.stdout, options.json ? JSON.stringify(stats) : formatStats(stats));
        } finally {
          memory.close();
        }
      });
    });

  cache
    .command('clear')
    .description('Delete cached translations: all of them (and a damaged cache file), or one model’s.')
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .option('--model <id>', 'only the translations of this model id, e.g. Xenova/opus-mt-ar-en')
    .action(async (options: CacheOptions & { model?: string }) => {
      await reportErrors('cache', async () => {
        const file = await cachePath(options);
        if (!existsSync(file)) {
          writeLine(process.stdout, `no translation memory at ${file}; nothing to clear`);
          return;
        }
        // A damaged file cannot be emptied row by row, whether the damage shows when it is opened or
        // while it is cleared; it only holds what can be made again, so it goes as a whole.
        const removeDamaged = (error: CacheCorruptError) => {
          TranslationMemory.remove(file);
          const all = options.model === undefined ? '' : ` (all models' translations, not only ${options.model}'s)`;
          writeLine(
            process.stdout,
            `removed the damaged translation memory ${file}${all}: ${error.message.split(';')[0]}; the next run starts a new one`,
          );
        };
        let memory: TranslationMemory;
        try {
          memory = TranslationMemory.open(file);
        } catch (error) {
          if (!(error instanceof CacheCorruptError)) throw error;
          removeDamaged(error);
          return;
        }
        let deleted: number;
        try {
          deleted = memory.clear(options.model === undefined ? {} : { id: options.model });
        } catch (error) {
          memory.close();
          if (!(error instanceof CacheCorruptError)) throw error;
          removeDamaged(error);
          return;
        }
        memory.close();
        const which = options.model === undefined ? '' : ` of ${options.model}`;
        writeLine(process.stdout, `deleted ${plural(deleted, 'cached translation')}${which} from ${file}`);
      });
    });
}

async function cachePath(options: CacheOptions): Promise<string> {
  const { config } = await loadConfig(options.config);
  return config.cache.path;
}

function formatStats(stats: CacheStats): string {
  const lines = [`translation memory ${stats.path}: ${plural(stats.sentences, 'sentence')}, ${formatBytes(stats.bytes)}`];
  for (const model of stats.models) {
    lines.push(
      `  ${String(model.sentences).padStart(9)}  ${model.id}@${model.revision} ${model.dtype} (weights ${model.fingerprint.slice(0, 12)})`,
    );
  }
  return lines.join('\n');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
