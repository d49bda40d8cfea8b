/**
 * `npm run eval:summarize -- <file.jsonl> [--sentences 3] [--limit N] [--lang L]`
 *
 * Scores the summarizer (`summarizeRecord`, the code behind `newsbridge summarize --jsonl`) and Lead-3 with
 * the same ROUGE scorer on records `{id, sentences[], reference, title?}`, e.g.
 * ../shared/data/summarization/cnndm-dev.jsonl. English is scored as rouge-score with Porter stemming
 * (the setting of the published CNN/DM figures); other languages with the Unicode tokenization
 * (Vietnamese syllables keep their diacritics). References are split into sentences for ROUGE-Lsum.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { summarizeRecord } from '../src/cli/summarize.js';
import { scoreRouge, type RougeOptions, type RougeScores } from './rouge.js';

interface EvalRecord {
  id: string;
  sentences: string[];
  reference: string;
  title?: string;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sentences: { type: 'string', default: '3' },
    limit: { type: 'string' },
    lang: { type: 'string' },
  },
});

const file = positionals[0];
if (!file) {
  console.error('usage: npm run eval:summarize -- <file.jsonl> [--sentences 3] [--limit N] [--lang en|vi|ar]');
  process.exit(1);
}
const size = Number(values.sentences);
const limit = values.limit === undefined ? Infinity : Number(values.limit);
if (!Number.isInteger(size) || size < 1 || !(limit > 0)) {
  console.error('--sentences and --limit take positive integers');
  process.exit(1);
}

const allRecords: EvalRecord[] = readFileSync(file, 'utf8')
  .split('\n')
  .flatMap((line, index) => {
    if (line.trim() === '') return [];
    let record: EvalRecord;
    try {
      record = JSON.parse(line) as EvalRecord;
    } catch (error) {
      throw new Error(`${file}:${index + 1}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(record.sentences) || typeof record.reference !== 'string') {
      throw new Error(`${file}:${index + 1}: expected {id, sentences[], reference, title?}`);
    }
    return [record];
  });
const records = allRecords.slice(0, limit);

const vietnameseLetters = /[ăâđêôơư]/iu;
const lang = values.lang ?? (records.some((r) => vietnameseLetters.test(r.reference)) ? 'vi' : 'en');
const rougeOptions: RougeOptions = lang === 'en' ? { tokenization: 'ascii', stem: true } : { tokenization: 'unicode', stem: false };

/** Sentence ends: PTB references end sentences with a detached ` .`, others with `. ` before a capital. */
function referenceSentences(reference: string): string[] {
  return reference
    .split(/(?<=[.!?…])\s+(?=[\p{Lu}\p{N}"“‘'(])|(?<=\s[.!?])\s+/u)
    .filter((sentence) => sentence.trim() !== '');
}

type Totals = { rouge1: number; rouge2: number; rougeLsum: number };
const add = (totals: Totals, scores: RougeScores) => {
  totals.rouge1 += scores.rouge1.f1;
  totals.rouge2 += scores.rouge2.f1;
  totals.rougeLsum += scores.rougeLsum.f1;
};

const summarizer: Totals = { rouge1: 0, rouge2: 0, rougeLsum: 0 };
const lead: Totals = { rouge1: 0, rouge2: 0, rougeLsum: 0 };
let differs = 0;
let fromLead = 0;
let chosenTotal = 0;
let elapsed = 0;
const positions = new Map<number, number>();

for (const record of records) {
  const started = performance.now();
  const { indices } = summarizeRecord(record, { sentences: size, ratio: 0 }, lang);
  elapsed += performance.now() - started;
  const leadIndices = record.sentences.slice(0, size).map((_, index) => index);
  if (indices.join() !== leadIndices.join()) differs++;
  fromLead += indices.filter((index) => index < size).length;
  chosenTotal += indices.length;
  for (const index of indices) positions.set(Math.min(index, 10), (positions.get(Math.min(index, 10)) ?? 0) + 1);
  const reference = referenceSentences(record.reference);
  add(summarizer, scoreRouge(reference, indices.map((index) => record.sentences[index]!), rougeOptions));
  add(lead, scoreRouge(reference, leadIndices.map((index) => record.sentences[index]!), rougeOptions));
}

/** A 300-sentence article made of the file's first 300 sentences (all of them, whatever --limit says). */
function syntheticTiming(): number {
  const pool = allRecords.flatMap((record) => record.sentences);
  const article = Array.from({ length: 300 }, (_, index) => pool[index % pool.length]!);
  const summarize = () => summarizeRecord({ id: 'synthetic', sentences: article }, { sentences: size, ratio: 0 }, lang);
  for (let i = 0; i < 10; i++) summarize();
  const runs: number[] = [];
  for (let i = 0; i < 21; i++) {
    const started = performance.now();
    summarize();
    runs.push(performance.now() - started);
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
}

const pct = (value: number) => ((100 * value) / records.length).toFixed(2).padStart(6);
const tokenization = rougeOptions.tokenization === 'ascii' ? 'rouge-score tokens, Porter stem' : 'Unicode syllables, no stem';
console.log(`${file}: ${records.length} articles, ${size} sentences, lang ${lang}, ROUGE F1 (${tokenization})`);
console.log('             ROUGE-1  ROUGE-2  ROUGE-Lsum');
console.log(`summarizer   ${pct(summarizer.rouge1)}   ${pct(summarizer.rouge2)}   ${pct(summarizer.rougeLsum)}`);
console.log(`Lead-${size}       ${pct(lead.rouge1)}   ${pct(lead.rouge2)}   ${pct(lead.rougeLsum)}`);
console.log(
  `choice differs from Lead-${size} in ${differs}/${records.length} articles (${((100 * differs) / records.length).toFixed(0)}%); ` +
    `${((100 * fromLead) / Math.max(chosenTotal, 1)).toFixed(0)}% of chosen sentences are lead sentences`,
);
console.log(
  `chosen positions: ${[...positions.entries()].sort((a, b) => a[0] - b[0]).map(([p, c]) => `${p === 10 ? '10+' : p}:${c}`).join(' ')}`,
);
console.log(`time: ${(elapsed / records.length).toFixed(2)} ms/article; 300-sentence article ${syntheticTiming().toFixed(2)} ms (median of 21)`);
