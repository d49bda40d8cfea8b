/**
 * Sentence-segmentation eval: `npm run eval:segment -- [file.jsonl ...] [--limit N]`. Each line is a
 * document `{id, lang, sentences[]}`; its sentences are joined with one space into a paragraph,
 * split again with `splitSentences`, and the sentence starts are compared with the gold ones. Each
 * document runs twice: as written, and with its punctuation spaced out as tokenized corpora have it
 * (`Hà Nội , ngày 5 .`). Without a file, runs the NTREX-128 files in ../shared/data/segmentation of
 * the languages the default config routes.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/config.js';
import { routedLanguages } from '../src/languages.js';
import { splitSentences } from '../src/stages/segment.js';
import { sharedPath } from './shared-data.js';

interface GoldDocument {
  id: string;
  lang: string;
  sentences: string[];
}

/** A sentence whose end a reader could see: a stop, possibly followed by closing quotes or brackets. */
const MARKED_END = /[.!?؟۔…]["'”’»)\]]*$/u;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { limit: { type: 'string' } } });
const limit = values.limit ? Number(values.limit) : Infinity;
const files = positionals.length
  ? positionals
  : routedLanguages(defaultConfig.translation.models).map((lang) => sharedPath(`data/segmentation/ntrex128-${lang}.jsonl`));

/** Punctuation spaced out as a tokenizer leaves it: commas, colons and semicolons, the final stop and its closers. */
function tokenized(sentence: string): string {
  return sentence
    .replace(/([,،;؛:])(?=\s)/gu, ' $1')
    .replace(/([.!?؟۔…]+)(["'”’»)\]]*)$/u, (_, stop: string, closers: string) => [` ${stop}`, ...closers].join(' '));
}

interface Tally {
  docs: number;
  tp: number;
  fp: number;
  fn: number;
  unmarked: number;
  unmarkedFound: number;
}
const tallies = new Map<string, Tally>();

function score(key: string, lang: string, sentences: string[], gold: readonly string[], where: string): void {
  const text = sentences.join(' ');
  const starts = new Set<number>();
  const unmarked = new Set<number>();
  let offset = 0;
  sentences.forEach((sentence, i) => {
    if (i > 0) starts.add(offset);
    if (i > 0 && !MARKED_END.test(gold[i - 1]!.trim())) unmarked.add(offset);
    offset += sentence.length + 1;
  });
  const predicted = new Set<number>();
  let cursor = 0;
  splitSentences(text, lang).forEach((sentence, i) => {
    const start = text.indexOf(sentence, cursor);
    if (start < 0) throw new Error(`${where}: segmenter changed the text of "${sentence.slice(0, 40)}"`);
    if (i > 0) predicted.add(start);
    cursor = start + sentence.length;
  });
  const tally = tallies.get(key) ?? { docs: 0, tp: 0, fp: 0, fn: 0, unmarked: 0, unmarkedFound: 0 };
  tally.docs++;
  for (const b of predicted)
    if (starts.has(b)) tally.tp++;
    else tally.fp++;
  for (const b of starts) if (!predicted.has(b)) tally.fn++;
  tally.unmarked += unmarked.size;
  for (const b of unmarked) if (predicted.has(b)) tally.unmarkedFound++;
  tallies.set(key, tally);
}

for (const file of files) {
  const lines = (await readFile(file, 'utf8')).split('\n');
  let read = 0;
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '' || read >= limit) continue;
    let doc: GoldDocument;
    try {
      doc = JSON.parse(line) as GoldDocument;
    } catch (error) {
      throw new Error(`${file}:${index + 1}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(doc.sentences) || typeof doc.lang !== 'string') {
      throw new Error(`${file}:${index + 1}: a document needs "lang" and "sentences" (an array of strings)`);
    }
    read++;
    score(doc.lang, doc.lang, doc.sentences, doc.sentences, `${file}:${index + 1}`);
    score(`${doc.lang} tokenized`, doc.lang, doc.sentences.map(tokenized), doc.sentences, `${file}:${index + 1}`);
  }
}

const f1 = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
console.log('sentence-boundary scores (boundary = start of a sentence after the first); "marked" = after a sentence-final stop,');
console.log('"unmarked" = after a headline or caption with no stop, which no rule can see once the sentences are joined:');
console.log('lang            docs  boundaries  all: precision  recall     F1  | marked: recall     F1  | unmarked: found');
for (const [key, t] of tallies) {
  const precision = t.tp / (t.tp + t.fp);
  const recall = t.tp / (t.tp + t.fn);
  const markedTp = t.tp - t.unmarkedFound;
  const markedRecall = markedTp / (t.tp + t.fn - t.unmarked);
  const markedPrecision = markedTp / (t.tp + t.fp - t.unmarkedFound);
  console.log(
    `${key.padEnd(14)} ${String(t.docs).padStart(5)} ${String(t.tp + t.fn).padStart(11)}  ${precision.toFixed(4).padStart(14)} ${recall.toFixed(4).padStart(7)} ${f1(precision, recall).toFixed(4).padStart(6)}  |  ${markedRecall.toFixed(4).padStart(12)} ${f1(markedPrecision, markedRecall).toFixed(4).padStart(6)}  |  ${String(t.unmarkedFound).padStart(6)} of ${t.unmarked}`,
  );
}
