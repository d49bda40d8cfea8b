import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { LanguageGuess } from '../article.js';
import { loadConfig } from '../config/config.js';
import { routedLanguages } from '../languages.js';
import { LanguageDetector } from '../stages/detect.js';
import { mapTextRecords, runTextCommand } from './text-records.js';

interface DetectFlags {
  jsonl?: boolean;
  config?: string;
}

export interface DetectRecord {
  id: unknown;
  lang: string;
  confidence: number;
}

/** Confidence rounded for output: four decimals say all there is to say. */
function rounded(guess: LanguageGuess): LanguageGuess {
  return { lang: guess.lang, confidence: Math.round(guess.confidence * 10_000) / 10_000 };
}

/** Detects each `--jsonl` line in input order; returns how many lines could not be used. */
export function detectJsonLines(
  detector: LanguageDetector,
  input: Readable,
  write: (line: string) => void,
  warn: (message: string) => void,
): Promise<number> {
  return mapTextRecords(input, (record): DetectRecord => ({ id: record.id, ...rounded(detector.detect(record.text)) }), write, warn);
}

/** `newsbridge detect`: the language of text on stdin, or of each JSON line with --jsonl. */
export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description(
      'Tell the language of a text (ISO 639-1, or "und" when too short or unclear) with fastText lid.176 and script checks. ' +
        'Text on stdin prints "<lang> <confidence>". With --jsonl, each input line is {"id","text"} and each output line {"id","lang","confidence"}, in input order.',
    )
    .option('--jsonl', 'JSON lines in and out')
    .option('--config <file>', 'pipeline config for detect.minConfidence and detect.minChars (default: pipeline.yaml when present)')
    .action((flags: DetectFlags) =>
      runTextCommand('detect', flags.jsonl, {
        setup: async () => {
          const { config } = await loadConfig(flags.config);
          return LanguageDetector.create(routedLanguages(config.translation.models), config.detect);
        },
        jsonLines: detectJsonLines,
        text: (detector, text) => {
          const guess = rounded(detector.detect(text));
          return [`${guess.lang} ${guess.confidence}`];
        },
      }),
    );
}
