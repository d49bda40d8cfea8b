import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { z } from 'zod';
import { splitText } from '../stages/segment.js';
import { chooseSummarySentences, type SummaryLength } from '../stages/summarize.js';
import { jsonObject, mapJsonLines, runTextCommand } from './text-records.js';

interface SummarizeFlags {
  sentences?: string;
  ratio?: string;
  lang?: string;
  jsonl?: boolean;
  config?: string;
}

/** One input line of `--jsonl`: text to split into sentences, or the sentences themselves. */
const summarizeRecordSchema = jsonObject
  .pipe(
    z.object({
      id: z.unknown().refine((id) => id !== undefined, 'has no "id"'),
      sentences: z.array(z.string(), { error: '"sentences" must be an array of strings' }).optional(),
      text: z.string().optional(),
      title: z.string({ error: '"title" must be a string' }).nullable().optional(),
      lang: z.string({ error: '"lang" must be a string such as "vi"' }).optional(),
    }),
  )
  .refine((record) => record.sentences !== undefined || record.text !== undefined, {
    error: 'needs "text" (a string) or "sentences" (an array of strings)',
  });
export type SummarizeRecord = z.infer<typeof summarizeRecordSchema>;

export interface SummaryRecord {
  id: unknown;
  indices: number[];
  summary: string[];
}

/** The summary of one record; `newsbridge summarize` and `npm run eval:summarize` both use it. */
export function summarizeRecord(record: SummarizeRecord, length: SummaryLength, lang?: string): SummaryRecord {
  const language = record.lang ?? lang;
  const sentences = record.sentences ?? splitText(record.text ?? '', language ?? 'und');
  const indices = chooseSummarySentences(sentences, { ...length, lang: language, title: record.title ?? null });
  return { id: record.id, indices, summary: indices.map((index) => sentences[index]!) };
}

function parseLength(flags: SummarizeFlags, defaults: SummaryLength): SummaryLength {
  const sentences = flags.sentences === undefined ? defaults.sentences : Number(flags.sentences);
  if (!Number.isInteger(sentences) || sentences < 1) {
    throw new Error(`--sentences is "${flags.sentences}"; accepted: a whole number of at least 1`);
  }
  const ratio = flags.ratio === undefined ? defaults.ratio : Number(flags.ratio);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new Error(`--ratio is "${flags.ratio}"; accepted: a number from 0 to 1 (0 turns it off)`);
  }
  return { sentences, ratio };
}

/** Summarizes each `--jsonl` line in input order; returns how many lines could not be used. */
export function summarizeJsonLines(
  input: Readable,
  write: (line: string) => void,
  warn: (message: string) => void,
  length: SummaryLength,
  lang?: string,
): Promise<number> {
  const format = { schema: summarizeRecordSchema, expected: '{"id", "text"} or {"id", "sentences": [...]}' };
  return mapJsonLines(input, format, (record: SummarizeRecord) => summarizeRecord(record, length, lang), write, warn);
}

/** `newsbridge summarize`: an extractive summary of text on stdin, or of each JSON line with --jsonl. */
export function registerSummarizeCommand(program: Command): void {
  program
    .command('summarize')
    .description(
      'Choose the sentences that summarize an article. Text on stdin (each line a paragraph, split into sentences); ' +
        'the summary is printed one sentence per line in document order. ' +
        'With --jsonl, each input line is {"id","text"} or {"id","sentences":[...]} (optional "title", "lang") and each output line {"id","indices","summary"}.',
    )
    .option('--sentences <n>', 'sentences in the summary (default: summary.sentences, 3)')
    .option('--ratio <r>', 'fraction of the sentences; the larger count wins (default: summary.ratio, 0)')
    .option('--lang <code>', 'language of the text, e.g. en, vi, ar (default: guessed from the script)')
    .option('--jsonl', 'JSON lines in and out')
    .option('--config <file>', 'pipeline config (default: pipeline.yaml when present)')
    .action((flags: SummarizeFlags) =>
      runTextCommand('summarize', flags.jsonl, {
        setup: async () => parseLength(flags, (await loadConfig(flags.config)).config.summary),
        jsonLines: (length, input, write, warn) => summarizeJsonLines(input, write, warn, length, flags.lang),
        text: (length, text) => summarizeRecord({ id: null, text }, length, flags.lang).summary,
      }),
    );
}
