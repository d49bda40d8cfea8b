import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { applyOverrides, loadConfig, type ModelDtype } from '../config/config.js';
import { configuredModels } from '../models/layout.js';
import { splitSentences } from '../stages/segment.js';
import { decodingOptions, Translator, type TranslatorOptions } from '../translation/translator.js';
import { DNT_KINDS } from '../terminology/dnt.js';
import { loadGlossary } from '../terminology/glossary.js';
import { dtypeOption } from './shared.js';
import { writeLine } from './printable.js';

interface TranslateOptions {
  from: string;
  model?: string;
  modelsDir?: string;
  dtype?: ModelDtype;
  config?: string;
  glossary?: string;
}

/** Lines translated per model call: enough to fill batches, few enough to stream output. */
const LINES_PER_CHUNK = 64;

/** `newsbridge translate --from <lang>`: source text on stdin, English on stdout, line by line. */
export function registerTranslateCommand(program: Command): void {
  program
    .command('translate')
    .description('Translate text on stdin to English on stdout. Each line (a sentence or a whole paragraph) gives one output line.')
    .requiredOption('--from <lang>', 'source language, e.g. ar or vi')
    .option('--model <dir>', 'a model folder to use instead of the configured model for --from')
    .option('--models-dir <dir>', 'where models live (default: translation.modelsDir)')
    .addOption(dtypeOption())
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .option('--glossary <file>', 'TSV/CSV glossary (source term, English term) the English must follow; see docs/terminology.md')
    .action(async (options: TranslateOptions) => {
      let translator: Translator | null = null;
      try {
        // A bad glossary stops here with its file:line, before a model is loaded.
        const glossary = options.glossary === undefined ? undefined : await loadGlossary(options.glossary);
        const terminology = glossary ? { glossary, doNotTranslate: DNT_KINDS } : undefined;
        translator = await Translator.load({ ...(await translatorOptions(options)), terminology });
        await translateLines(translator, options.from);
      } catch (error) {
        writeLine(process.stderr, `newsbridge translate: ${(error as Error).message}`);
        process.exitCode = 1;
      } finally {
        await translator?.dispose();
      }
    });
}

async function translatorOptions(options: TranslateOptions): Promise<TranslatorOptions> {
  const { config: fileConfig } = await loadConfig(options.config);
  const config = applyOverrides(fileConfig, { modelsDir: options.modelsDir }).translation;
  const dtype = options.dtype ?? config.dtype;
  const settings = { ...decodingOptions(config), dtype };
  if (options.model !== undefined) {
    const modelDir = path.resolve(options.model);
    return {
      ...settings,
      modelDir,
      model: { lang: options.from, id: modelDir, revision: 'local', dtype },
      label: { name: modelDir, fix: `point --model at a folder holding a MarianMT export (config.json, tokenizer.json, onnx/…)` },
    };
  }
  const model = configuredModels(config.models, config.modelsDir).find((m) => m.lang === options.from);
  if (!model) {
    const known = Object.keys(config.models).join(', ');
    throw new Error(
      `--from ${options.from}: no model is configured for "${options.from}"; configured: ${known} (translation.models), or pass --model <dir>`,
    );
  }
  return {
    ...settings,
    modelDir: model.dir,
    model: { lang: model.lang, id: model.id, revision: model.revision, dtype },
    label: model.label,
  };
}

/**
 * Reads stdin in chunks of lines, splits each line into sentences (a paragraph per line works too),
 * translates a chunk's sentences together so they share batches, and writes one line per input line.
 * Flags go to stderr with the line number, so nothing suspicious passes silently.
 */
async function translateLines(translator: Translator, lang: string): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let chunk: string[] = [];
  let firstLine = 1;
  const flush = async () => {
    // Split as the pipeline's segment stage splits a paragraph (Arabic punctuation, abbreviations).
    const sentencesPerLine = chunk.map((line) => splitSentences(line, lang));
    const results = await translator.translate(sentencesPerLine.flat());
    let next = 0;
    const output = sentencesPerLine.map((sentences, i) => {
      const targets = sentences.map((_, k) => {
        const result = results[next++]!;
        if (result.flags.length > 0) {
          console.error(`line ${firstLine + i}, sentence ${k + 1}: ${result.flags.join(', ')}`);
        }
        return result.target;
      });
      return targets.join(' ');
    });
    process.stdout.write(output.map((line) => `${line}\n`).join(''));
    firstLine += chunk.length;
    chunk = [];
  };
  for await (const line of lines) {
    chunk.push(line);
    if (chunk.length >= LINES_PER_CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
}
