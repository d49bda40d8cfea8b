import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { LanguageCode } from '../article.js';
import { loadConfig } from '../config/config.js';
import { routedLanguages } from '../languages.js';
import { LanguageDetector } from '../stages/detect.js';
import { splitText } from '../stages/segment.js';
import { mapTextRecords, runTextCommand } from './text-records.js';

interface SegmentFlags {
  lang?: string;
  jsonl?: boolean;
  config?: string;
}

export interface SegmentRecord {
  id: unknown;
  sentences: string[];
}

/**
 * The language to split a text by: the record's own, else `--lang`, else the detected one (`en`
 * rules when the detector cannot tell).
 */
export type LanguageOf = (text: string, recordLang?: string) => LanguageCode;

export function languageOf(detector: LanguageDetector | null, fixed?: string): LanguageOf {
  return (text, recordLang) => {
    if (recordLang) return recordLang;
    if (fixed) return fixed;
    const lang = detector?.detect(text).lang ?? 'und';
    return lang === 'und' ? 'en' : lang;
  };
}

/** Segments each `--jsonl` line in input order; returns how many lines could not be used. */
export function segmentJsonLines(
  lang: LanguageOf,
  input: Readable,
  write: (line: string) => void,
  warn: (message: string) => void,
): Promise<number> {
  return mapTextRecords(
    input,
    (record): SegmentRecord => ({ id: record.id, sentences: splitText(record.text, lang(record.text, record.lang)) }),
    write,
    warn,
  );
}

/** `newsbridge segment`: sentences of text on stdin, or of each JSON line with --jsonl. */
export function registerSegmentCommand(program: Command): void {
  program
    .command('segment')
    .description(
      'Split text into sentences (Unicode rules plus Arabic punctuation, quotes, abbreviations and numbers); each line is a paragraph. ' +
        'Text on stdin prints one sentence per line. With --jsonl, each input line is {"id","text"} (optional "lang") and each output line {"id","sentences":[...]}, in input order.',
    )
    .option('--lang <code>', 'language of the text, e.g. ar, vi, en (default: detected)')
    .option('--jsonl', 'JSON lines in and out')
    .option('--config <file>', 'pipeline config for language detection (default: pipeline.yaml when present)')
    .action((flags: SegmentFlags) =>
      runTextCommand('segment', flags.jsonl, {
        setup: async () => {
          if (flags.lang !== undefined && !/^[a-z]{2,3}$/.test(flags.lang)) {
            throw new Error(`--lang is "${flags.lang}"; accepted: a language code such as ar, vi or en`);
          }
          const { config } = await loadConfig(flags.config);
          return languageOf(
            flags.lang ? null : await LanguageDetector.create(routedLanguages(config.translation.models), config.detect),
            flags.lang,
          );
        },
        jsonLines: segmentJsonLines,
        text: (lang, text) => splitText(text, lang(text)),
      }),
    );
}
