/**
 * Terminology on the generated tiny models (random weights never write a term by chance, so a term in
 * the output was put there by the constraints): a glossary built from NTREX-128 (Vietnamese: the
 * Latin-script names a Vietnamese line shares with its English line; Arabic: names aligned to the
 * English line's names, over a hand-made list of country and people names, matched under attached prefixes) and ≥ 300 sentences holding its terms. Reports term presence, DNT
 * spans copied (and how many went through a placeholder), terms inserted into sentences without their
 * source, and the speed cost at q8, greedy and at beam 4.
 *
 *   npm run eval:terms
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DNT_KINDS } from '../src/terminology/dnt.js';
import { parseGlossary, type Glossary } from '../src/terminology/glossary.js';
import { ARABIC_PREFIXES } from '../src/terminology/match.js';
import { normalizeArabic } from '../src/terminology/normalize.js';
import { Terminology, type TerminologySettings } from '../src/terminology/terminology.js';
import { type SentenceTranslation, Translator } from '../src/translation/translator.js';
import { tinyTranslatorOptions } from '../tests/helpers/translator-options.js';
import { ensureTestModels } from '../tools/test-models.js';
import { sharedPath } from './shared-data.js';

const ARABIC_NAMES = `الولايات المتحدة\tUnited States\nترامب\tTrump\nالصين\tChina\nروسيا\tRussia\nإسرائيل\tIsrael\nبريطانيا\tBritain
فرنسا\tFrance\nألمانيا\tGermany\nاليابان\tJapan\nكوريا الشمالية\tNorth Korea\nأوروبا\tEurope\nلندن\tLondon\nواشنطن\tWashington
الهند\tIndia\nإيران\tIran\nكندا\tCanada\nأستراليا\tAustralia\nتركيا\tTurkey\nسوريا\tSyria\nمصر\tEgypt\nكيشيدا\tKishida\nطوكيو\tTokyo`;

const dir = sharedPath('data/mt/ntrex128');
const lines = async (file: string) => (await readFile(path.join(dir, file), 'utf8')).split('\n');
const english = await lines('newstest2019-src.eng.txt');

/** A word without its attached prefix: the key that the forms of one name share. */
const arabicStem = (word: string) => {
  const prefix = ARABIC_PREFIXES.find((p) => word.startsWith(p) && word.length - p.length >= 3);
  return prefix ? word.slice(prefix.length) : word;
};
const NOT_NAMES = new Set(['The', 'This', 'That', 'There', 'They', 'These', 'When', 'What', 'While', 'After', 'Before', 'With']);

/**
 * Arabic names aligned to the English names of the same NTREX line by the Dice coefficient of their
 * line counts (prefixed forms counted as one word), above the hand-made list; so the glossary holds
 * the names this news actually carries, in the surface form it carries them most.
 */
function arabicGlossary(ar: string[]): Glossary {
  const arabicLines = new Map<string, number>();
  const englishLines = new Map<string, number>();
  const both = new Map<string, number>();
  const surfaces = new Map<string, Map<string, number>>();
  const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  ar.forEach((line, i) => {
    const names = new Set((english[i] ?? '').match(/(?<!^)\b[A-Z][a-z]{2,}\b/gu)?.filter((name) => !NOT_NAMES.has(name)) ?? []);
    const stems = new Set<string>();
    for (const word of normalizeArabic(line).match(/\p{Script=Arabic}{3,}/gu) ?? []) {
      const stem = arabicStem(word);
      stems.add(stem);
      const forms = surfaces.get(stem) ?? new Map<string, number>();
      surfaces.set(stem, forms);
      add(forms, word);
    }
    for (const stem of stems) add(arabicLines, stem);
    for (const name of names) {
      add(englishLines, name);
      for (const stem of stems) add(both, `${stem}\t${name}`);
    }
  });
  const best = new Map<string, { stem: string; dice: number }>();
  for (const [pair, n] of both) {
    if (n < 3) continue;
    const [stem, name] = pair.split('\t') as [string, string];
    const dice = (2 * n) / (arabicLines.get(stem)! + englishLines.get(name)!);
    if (dice >= 0.6 && dice > (best.get(name)?.dice ?? 0)) best.set(name, { stem, dice });
  }
  const rows = new Map(ARABIC_NAMES.split('\n').map((row) => [arabicStem(normalizeArabic(row.split('\t')[0]!)), row] as const));
  for (const [name, { stem }] of best) {
    if (rows.has(stem)) continue;
    const surface = [...surfaces.get(stem)!].sort((a, b) => b[1] - a[1])[0]![0];
    rows.set(stem, `${surface}\t${name}`);
  }
  return parseGlossary([...rows.values()].join('\n'), 'ntrex-ar.tsv');
}

function vietnameseGlossary(vi: string[]): Glossary {
  const counts = new Map<string, number>();
  vi.forEach((line, i) => {
    const en = new Set(english[i]?.match(/\b[A-Z][a-z]{3,}\b/gu) ?? []);
    for (const word of new Set(line.match(/\b[A-Z][a-z]{3,}\b/gu) ?? [])) if (en.has(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
  });
  const names = [...counts].filter(([, n]) => n >= 2).map(([word]) => `${word}\t${word}`);
  return parseGlossary(names.join('\n'), 'ntrex-vi.tsv');
}

interface Tally {
  terms: number;
  honoured: number;
  spans: number;
  copied: number;
  /** Requirements whose English the tiny vocabulary cannot spell: they go through a placeholder (src/terminology/masking.ts). */
  masked: number;
  inserted: number;
}

const BEAM_SENTENCES = 50;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Timings = Record<'constrained' | 'unconstrained', [off: number, on: number]>;

/** Four rounds of each set, with and without terminology, which goes first alternating by round (so order costs neither); the last round's outputs. */
async function timeRounds(translator: Translator, terminology: TerminologySettings, withTerms: string[], without: string[]) {
  await translator.translate(withTerms.slice(0, 10)); // warm-up
  const time = async (sentences: string[], on: boolean) => {
    const started = performance.now();
    const out = await translator.translate(sentences, undefined, on ? { terminology } : {});
    return { out, ms: performance.now() - started };
  };
  const timings: Timings = { constrained: [0, 0], unconstrained: [0, 0] };
  let last = { on: [] as SentenceTranslation[], off: [] as SentenceTranslation[] };
  type Timed = Awaited<ReturnType<typeof time>>;
  const pair = async (sentences: string[], onFirst: boolean): Promise<[off: Timed, on: Timed]> => {
    if (!onFirst) return [await time(sentences, false), await time(sentences, true)];
    const on = await time(sentences, true);
    return [await time(sentences, false), on];
  };
  for (let round = 0; round < 4; round++) {
    const [off, on] = await pair(withTerms, round % 2 === 1);
    const [plainOff, plainOn] = await pair(without, round % 2 === 1);
    timings.constrained[0] += off.ms;
    timings.constrained[1] += on.ms;
    timings.unconstrained[0] += plainOff.ms;
    timings.unconstrained[1] += plainOn.ms;
    last = { on: on.out, off: plainOn.out };
  }
  return { timings, last };
}

async function run(lang: 'ar' | 'vi', glossary: Glossary, sources: string[], modelsDir: string) {
  const terminology = { glossary, doNotTranslate: DNT_KINDS };
  const fixedTargetTokens = (ids: readonly number[]) => ids.length;
  const plan = new Terminology(lang, terminology);
  const withTerms = sources.filter((s) => plan.requirements(s).some((r) => r.kind === 'term')).slice(0, 200);
  const without = sources.filter((s) => plan.requirements(s).length === 0).slice(0, 200);
  const greedy = await Translator.load(tinyTranslatorOptions(modelsDir, lang, 'q8', { fixedTargetTokens }));
  const { timings, last } = await timeRounds(greedy, terminology, withTerms, without);
  console.error(`${lang}: greedy done (${new Date().toISOString()})`);
  const tally: Tally = { terms: 0, honoured: 0, spans: 0, copied: 0, masked: 0, inserted: 0 };
  withTerms.forEach((source, i) => {
    // What the article output says: src/terminology's own check of the English, per requirement.
    for (const term of greedy.terms(source, last.on[i]!.target, { terminology })) {
      if (term.kind === 'term') tally.terms++;
      else tally.spans++;
      if (term.present) tally[term.kind === 'term' ? 'honoured' : 'copied']++;
      else console.error(`${lang}: ${term.kind} ${JSON.stringify(term.target)} missing from ${JSON.stringify(last.on[i]!.target)}`);
      if (greedy.spell(term.target) === null) tally.masked++;
    }
  });
  // Terms of the glossary that appear in an output whose source does not hold them: looked for in the
  // English left once the sentence's own terms are taken out ("North" of its "North Korea" is not
  // inserted), and not counted where the source itself has the English (a Latin-script name copied).
  const all = [...withTerms, ...without];
  const outputs = [...last.on, ...last.off];
  all.forEach((source, i) => {
    const own = [...new Set(plan.requirements(source).map((r) => r.target))].sort((a, b) => b.length - a.length);
    const rest = own.reduce((text, target) => text.replaceAll(target, ' '), outputs[i]!.target);
    const word = (target: string) => new RegExp(String.raw`(?<![\p{L}\p{N}])` + escapeRegExp(target) + String.raw`(?![\p{L}\p{N}])`, 'u');
    for (const entry of glossary.entries) if (word(entry.target).test(rest) && !word(entry.target).test(source)) tally.inserted++;
  });
  // Beam search carries constraints per beam; what a beam costs is the least dynamic beam allocation
  // (which needs a beam wider than the constraints) could cost.
  const beam = await Translator.load(tinyTranslatorOptions(modelsDir, lang, 'q8', { fixedTargetTokens, numBeams: 4 }));
  // On the first 50 of each set: beam 4 does four times the decoder work.
  const [few, fewWithout] = [withTerms.slice(0, BEAM_SENTENCES), without.slice(0, BEAM_SENTENCES)];
  const beamRounds = await timeRounds(beam, terminology, few, fewWithout);
  const greedyFew = await timeRounds(greedy, terminology, few, fewWithout);
  await Promise.all([greedy.dispose(), beam.dispose()]);
  return {
    lang,
    entries: glossary.entries.length,
    withTerms: withTerms.length,
    without: without.length,
    tally,
    timings,
    beam: beamRounds.timings,
    greedyFew: greedyFew.timings,
  };
}

const modelsDir = await ensureTestModels();
const vi = await lines('newstest2019-ref.vie.txt');
const ar = await lines('newstest2019-ref.arb.txt');
const results = [await run('vi', vietnameseGlossary(vi), vi, modelsDir), await run('ar', arabicGlossary(ar), ar, modelsDir)];
console.log(
  '| lang | glossary entries | sentences with terms / without | terms present | DNT spans copied | of them masked (unspellable) | terms inserted | speed with constraints, greedy | speed without, greedy | with constraints, beam 4 | beam 4 / greedy, no constraints |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const t = r.tally;
  const ratio = ([off, on]: number[]) => (on! / off!).toFixed(2);
  const percent = (part: number, whole: number) => `${part}/${whole} (${((100 * part) / whole).toFixed(1)}%)`;
  console.log(
    `| ${r.lang} | ${r.entries} | ${r.withTerms} / ${r.without} | ${percent(t.honoured, t.terms)} | ${percent(t.copied, t.spans)} | ${t.masked} | ${t.inserted} | ${ratio(r.timings.constrained)}× | ${ratio(r.timings.unconstrained)}× | ${ratio(r.beam.constrained)}× | ${(r.beam.unconstrained[0] / r.greedyFew.unconstrained[0]).toFixed(2)}× |`,
  );
}
