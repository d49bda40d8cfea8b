/**
 * `npm run eval:summarize -- <file.jsonl> [--sentences 3] [--limit N] [--lang L]`
 *
 * Records with `references[]` (EASC: five human summaries each) are scored against all of them as
 * rouge-score's `score_multi` does (the best reference per measure) and against the first alone.
 * Arabic (`--lang ar`, or guessed from the script) is normalised on both sides first: tatweel and
 * diacritics dropped, أ/إ/آ → ا, as the EASC references are written. A paired bootstrap over articles
 * (2,000 resamples, fixed seed) gives the 95 % interval of summarizer − Lead-N. Records with a `source`
 * (EASC: Wikipedia, Alwatan Newspaper, Alrai Newspaper) also get the difference per source.
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
import { normalizeArabicForRouge, scoreRouge, scoreRougeMulti, type RougeOptions, type RougeScores } from './rouge.js';

interface EvalRecord {
  id: string;
  sentences: string[];
  reference: string;
  references?: string[];
  title?: string;
  /** Where the article comes from (EASC: Wikipedia or a newspaper); the difference to Lead-N is also printed per source. */
  source?: string;
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
const guessed = records.some((r) => /\p{Script=Arabic}/u.test(r.reference))
  ? 'ar'
  : records.some((r) => vietnameseLetters.test(r.reference))
    ? 'vi'
    : 'en';
const lang = values.lang ?? guessed;
const rougeOptions: RougeOptions = lang === 'en' ? { tokenization: 'ascii', stem: true } : { tokenization: 'unicode', stem: false };
const normalize = lang === 'ar' ? normalizeArabicForRouge : (text: string) => text;

/**
 * Sentence ends: PTB references end sentences with a detached ` .`, others with `. ` before a capital;
 * Arabic has no capitals, so any stop followed by a space ends a sentence.
 */
function referenceSentences(reference: string): string[] {
  const ends = lang === 'ar' ? /(?<=[.!?؟…])\s+/u : /(?<=[.!?…])\s+(?=[\p{Lu}\p{N}"“‘'(])|(?<=\s[.!?])\s+/u;
  return normalize(reference)
    .split(ends)
    .filter((sentence) => sentence.trim() !== '');
}

/** Per-article F1 of each measure, in record order. */
type Scores = { rouge1: number[]; rouge2: number[]; rougeLsum: number[] };
const measures = ['rouge1', 'rouge2', 'rougeLsum'] as const;
const scores = (): Scores => ({ rouge1: [], rouge2: [], rougeLsum: [] });
const add = (totals: Scores, result: RougeScores) => {
  for (const measure of measures) totals[measure].push(result[measure].f1);
};

const multiReference = records.every((record) => Array.isArray(record.references) && record.references.length > 0);
/** Against the one `reference` (EASC: the first of the five), and against all `references` when every record has them. */
const summarizer = { first: scores(), all: scores() };
const lead = { first: scores(), all: scores() };
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
  const chosen = indices.map((index) => normalize(record.sentences[index]!));
  const leadSentences = leadIndices.map((index) => normalize(record.sentences[index]!));
  const reference = referenceSentences(record.reference);
  add(summarizer.first, scoreRouge(reference, chosen, rougeOptions));
  add(lead.first, scoreRouge(reference, leadSentences, rougeOptions));
  if (multiReference) {
    const references = record.references!.map(referenceSentences);
    add(summarizer.all, scoreRougeMulti(references, chosen, rougeOptions));
    add(lead.all, scoreRougeMulti(references, leadSentences, rougeOptions));
  }
}

/** 95 % interval of mean(a − b) by a paired bootstrap over articles (2,000 resamples, fixed seed). */
function bootstrap(a: number[], b: number[]): [number, number] {
  let seed = 20261130;
  const random = () => {
    // mulberry32: a small seeded generator, so the interval is the same on every run.
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const means: number[] = [];
  for (let r = 0; r < 2000; r++) {
    let sum = 0;
    for (let k = 0; k < a.length; k++) {
      const i = Math.floor(random() * a.length);
      sum += a[i]! - b[i]!;
    }
    means.push((100 * sum) / a.length);
  }
  means.sort((x, y) => x - y);
  return [means[Math.floor(0.025 * means.length)]!, means[Math.floor(0.975 * means.length)]!];
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

const mean = (values: number[]) => (100 * values.reduce((sum, value) => sum + value, 0)) / values.length;
const pct = (values: number[]) => mean(values).toFixed(2).padStart(6);
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;
const tokenization =
  rougeOptions.tokenization === 'ascii'
    ? 'rouge-score tokens, Porter stem'
    : lang === 'ar'
      ? 'Unicode words, Arabic normalised (tatweel, diacritics, أ/إ/آ → ا), no stem'
      : 'Unicode syllables, no stem';
console.log(`${file}: ${records.length} articles, ${size} sentences, lang ${lang}, ROUGE F1 (${tokenization})`);
for (const against of multiReference ? (['all', 'first'] as const) : (['first'] as const)) {
  if (multiReference)
    console.log(
      against === 'all'
        ? `against all ${records[0]!.references!.length} references (best per measure, as rouge-score score_multi):`
        : 'against the first reference:',
    );
  console.log('             ROUGE-1  ROUGE-2  ROUGE-Lsum');
  console.log(
    `summarizer   ${pct(summarizer[against].rouge1)}   ${pct(summarizer[against].rouge2)}   ${pct(summarizer[against].rougeLsum)}`,
  );
  console.log(`Lead-${size}       ${pct(lead[against].rouge1)}   ${pct(lead[against].rouge2)}   ${pct(lead[against].rougeLsum)}`);
  const difference = measures.map((measure) => {
    const [low, high] = bootstrap(summarizer[against][measure], lead[against][measure]);
    return `${signed(mean(summarizer[against][measure]) - mean(lead[against][measure]))} [${signed(low)}, ${signed(high)}]`;
  });
  console.log(`difference   ${difference.join('  ')}  (95 % paired bootstrap)`);
}
const sources = [...new Set(records.map((record) => record.source).filter((source) => typeof source === 'string'))];
if (sources.length > 1) {
  console.log(`difference to Lead-${size} by source (ROUGE-1, ROUGE-2; 95 % paired bootstrap of ROUGE-1):`);
  for (const source of sources) {
    const rows = records.flatMap((record, index) => (record.source === source ? [index] : []));
    const pick = (values: number[]) => rows.map((index) => values[index]!);
    const describe = (against: 'all' | 'first') => {
      const [r1, l1, r2, l2] = [summarizer[against].rouge1, lead[against].rouge1, summarizer[against].rouge2, lead[against].rouge2].map(
        pick,
      ) as [number[], number[], number[], number[]];
      const [low, high] = bootstrap(r1, l1);
      return `${signed(mean(r1) - mean(l1))} ${signed(mean(r2) - mean(l2))} [${signed(low)}, ${signed(high)}]`;
    };
    const parts = multiReference ? [`all references ${describe('all')}`, `first ${describe('first')}`] : [describe('first')];
    console.log(`  ${source} (${rows.length}): ${parts.join('; ')}`);
  }
}
console.log(
  `choice differs from Lead-${size} in ${differs}/${records.length} articles (${((100 * differs) / records.length).toFixed(0)}%); ` +
    `${((100 * fromLead) / Math.max(chosenTotal, 1)).toFixed(0)}% of chosen sentences are lead sentences`,
);
console.log(
  `chosen positions: ${[...positions.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([p, c]) => `${p === 10 ? '10+' : p}:${c}`)
    .join(' ')}`,
);
console.log(
  `time: ${(elapsed / records.length).toFixed(2)} ms/article; 300-sentence article ${syntheticTiming().toFixed(2)} ms (median of 21)`,
);
