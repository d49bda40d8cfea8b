/**
 * Language-ID eval: `npm run eval:lid -- [file.tsv] [--limit N] [--passes N] [--half even|odd] [--windows]`. The TSV has a header with a
 * `text` column and a label column (`label_fine`/`label_macro` as in the Tatoeba sample, or
 * `label`); labels are ISO 639-3 or 639-1. Runs every line (or `--limit` evenly spaced ones) through
 * the detector `newsbridge detect` uses, with the default config. Speed is the best of `--passes`
 * runs over all lines (default 3): on a shared machine one pass measures the neighbours as much as
 * the detector. `--half` keeps the lines at even or odd positions: tune on one, report on the other.
 * `--windows` replaces each line by every run of 2–5 of its words (deduplicated, same label): short,
 * headline-like texts, where fastText's short-text English prior shows.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/config.js';
import { routedLanguages } from '../src/languages.js';
import { LanguageDetector } from '../src/stages/detect.js';
import { sharedPath } from './shared-data.js';

/** ISO 639-3 (and FLORES-style `xxx_Scrp`) labels to the 639-1 codes the detector answers. */
const ISO_639_1: Record<string, string> = {
  ara: 'ar',
  arb: 'ar',
  afb: 'ar',
  apc: 'ar',
  arq: 'ar',
  ary: 'ar',
  arz: 'ar',
  acm: 'ar',
  ajp: 'ar',
  aeb: 'ar',
  ars: 'ar',
  acq: 'ar',
  eng: 'en',
  vie: 'vi',
  fas: 'fa',
  pes: 'fa',
  prs: 'fa',
  urd: 'ur',
  pus: 'ps',
  pbt: 'ps',
  snd: 'sd',
  uig: 'ug',
  ind: 'id',
  zsm: 'ms',
  msa: 'ms',
  tgl: 'tl',
  fil: 'tl',
  fra: 'fr',
  tur: 'tr',
  spa: 'es',
  por: 'pt',
  rus: 'ru',
  heb: 'he',
  hin: 'hi',
  tha: 'th',
  deu: 'de',
  ita: 'it',
  nld: 'nl',
  pol: 'pl',
  ukr: 'uk',
  jpn: 'ja',
  kor: 'ko',
  ben: 'bn',
  swa: 'sw',
  swh: 'sw',
  zho: 'zh',
  cmn: 'zh',
  lzh: 'zh',
  yue: 'zh',
  wuu: 'zh',
};
/** The languages the default config routes; lines of other languages sent to one of them are errors. */
const ROUTED = routedLanguages(defaultConfig.translation.models);
const BUCKETS = [
  { name: '<20', test: (n: number) => n < 20 },
  { name: '20-60', test: (n: number) => n >= 20 && n <= 60 },
  { name: '>60', test: (n: number) => n > 60 },
];

function toCode(label: string | undefined): string | undefined {
  if (!label) return undefined;
  const base = label.split('_')[0]!;
  return ISO_639_1[base] ?? (base.length === 2 ? base : undefined);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { limit: { type: 'string' }, passes: { type: 'string', default: '3' }, half: { type: 'string' }, windows: { type: 'boolean' } },
});
const file = positionals[0] ?? sharedPath('data/lid/tatoeba-lid-sample.tsv');
const limit = values.limit ? Number(values.limit) : Infinity;

const [header, ...allRows] = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
if (values.half !== undefined && values.half !== 'even' && values.half !== 'odd')
  throw new Error(`--half must be even or odd, not ${values.half}`);
const rows = values.half ? allRows.filter((_, i) => i % 2 === (values.half === 'even' ? 0 : 1)) : allRows;
const columns = header!.split('\t');
const textColumn = columns.indexOf('text');
const labelColumns = ['label_fine', 'label', 'lang', 'label_macro'].map((name) => columns.indexOf(name)).filter((i) => i >= 0);
if (textColumn < 0 || labelColumns.length === 0) {
  throw new Error(`${file}:1: the header needs a "text" column and a label column (label_fine, label_macro, label or lang)`);
}
// The file is sorted by language, so a limited run takes evenly spaced lines to cover every one.
const step = Math.max(1, rows.length / Math.min(limit, rows.length));
const picked = Number.isFinite(limit) ? Array.from({ length: Math.min(limit, rows.length) }, (_, i) => rows[Math.floor(i * step)]!) : rows;
const lines = picked.map((row) => {
  const cells = row.split('\t');
  const gold = labelColumns.map((i) => toCode(cells[i])).find((code) => code !== undefined) ?? cells[labelColumns[0]!]!;
  return { gold, text: cells[textColumn] ?? '' };
});
const samples = values.windows ? [...new Map(lines.flatMap(wordWindows).map((s) => [`${s.gold}\t${s.text}`, s])).values()] : lines;

function wordWindows({ gold, text }: { gold: string; text: string }): { gold: string; text: string }[] {
  const words = text.split(/\s+/).filter(Boolean);
  const windows = [];
  for (let length = 2; length <= 5; length++) {
    for (let start = 0; start + length <= words.length; start++) windows.push({ gold, text: words.slice(start, start + length).join(' ') });
  }
  return windows;
}

const detector = await LanguageDetector.create(ROUTED, defaultConfig.detect);
let predictions: string[] = [];
let seconds = Infinity;
for (let pass = 0; pass < Math.max(1, Number(values.passes)); pass++) {
  const started = performance.now();
  predictions = samples.map((sample) => detector.detect(sample.text).lang);
  seconds = Math.min(seconds, (performance.now() - started) / 1000);
}

const pct = (n: number, d: number) => (d === 0 ? '   -  ' : `${((100 * n) / d).toFixed(2).padStart(6)}%`);
const long = samples.map((s) => s.text.length >= 20);

console.log(
  `file: ${file}${values.half ? `, lines at ${values.half} positions` : ''}${values.windows ? ', as word windows of 2-5 words' : ''}`,
);
console.log(
  `lines: ${samples.length}, ${(samples.length / seconds).toFixed(0)} lines/s (detection only, one thread, best of ${values.passes} passes)\n`,
);

const languages = [...new Set(samples.map((s) => s.gold))].sort();
console.log('accuracy per language (all lines | lines >= 20 chars), und rate:');
for (const lang of languages) {
  const idx = samples.map((s, i) => (s.gold === lang ? i : -1)).filter((i) => i >= 0);
  const idxLong = idx.filter((i) => long[i]);
  const correct = (ids: number[]) => ids.filter((i) => predictions[i] === lang).length;
  const und = idx.filter((i) => predictions[i] === 'und').length;
  console.log(
    `  ${lang.padEnd(4)} n=${String(idx.length).padStart(5)} ${pct(correct(idx), idx.length)} | n=${String(idxLong.length).padStart(5)} ${pct(correct(idxLong), idxLong.length)}   und ${pct(und, idx.length)}`,
  );
}

for (const [title, counted] of [
  ['lines >= 20 chars', long],
  ['all lines', samples.map(() => true)],
] as const) {
  console.log(`\ntaken for ar / vi / en (${title}; share of that label's ${title}):`);
  for (const target of ROUTED) {
    const wrong = new Map<string, number>();
    samples.forEach((s, i) => {
      if (counted[i] && predictions[i] === target && s.gold !== target) wrong.set(s.gold, (wrong.get(s.gold) ?? 0) + 1);
    });
    const parts = [...wrong]
      .sort((a, b) => b[1] - a[1])
      .map(([gold, n]) => {
        const total = samples.filter((s, i) => counted[i] && s.gold === gold).length;
        return `${gold} ${n} (${pct(n, total).trim()})`;
      });
    console.log(`  -> ${target}: ${parts.length ? parts.join(', ') : 'none'}`);
  }
}

console.log('\naccuracy by text length (all languages | ar vi en), und rate:');
for (const bucket of BUCKETS) {
  const idx = samples.map((s, i) => (bucket.test(s.text.length) ? i : -1)).filter((i) => i >= 0);
  const routed = idx.filter((i) => ROUTED.includes(samples[i]!.gold));
  const ok = (ids: number[]) => ids.filter((i) => predictions[i] === samples[i]!.gold).length;
  const und = idx.filter((i) => predictions[i] === 'und').length;
  const wrongRouted = idx.filter((i) => ROUTED.includes(predictions[i]!) && predictions[i] !== samples[i]!.gold).length;
  console.log(
    `  ${bucket.name.padEnd(6)} n=${String(idx.length).padStart(5)} ${pct(ok(idx), idx.length)} | ${pct(ok(routed), routed.length)}   und ${pct(und, idx.length)}   wrongly ar/vi/en ${wrongRouted}`,
  );
}
const undAll = predictions.filter((p) => p === 'und').length;
console.log(`\nund overall: ${undAll} (${pct(undAll, samples.length).trim()})`);
