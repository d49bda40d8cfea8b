/**
 * Terminology on the generated tiny models (random weights never write a term by chance, so a term in
 * the output was put there by the constraints): a glossary built from NTREX-128 (Vietnamese: the
 * Latin-script names a Vietnamese line shares with its English line; Arabic: country and people names,
 * matched under attached prefixes) and ≥ 300 sentences holding its terms. Reports term presence, DNT
 * spans copied, terms inserted into sentences without their source, and the speed cost at q8.
 *
 *   flock /tmp/nb/bench.lock npm run eval:terms
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DNT_KINDS } from '../src/terminology/dnt.js';
import { parseGlossary, type Glossary } from '../src/terminology/glossary.js';
import { Terminology } from '../src/terminology/terminology.js';
import { Translator } from '../src/translation/translator.js';
import { tinyTranslatorOptions } from '../tests/helpers/translator-options.js';
import { ensureTestModels } from '../tools/test-models.js';
import { sharedPath } from './shared-data.js';

const ARABIC_NAMES = `الولايات المتحدة\tUnited States\nترامب\tTrump\nالصين\tChina\nروسيا\tRussia\nإسرائيل\tIsrael\nبريطانيا\tBritain
فرنسا\tFrance\nألمانيا\tGermany\nاليابان\tJapan\nكوريا الشمالية\tNorth Korea\nأوروبا\tEurope\nلندن\tLondon\nواشنطن\tWashington
الهند\tIndia\nإيران\tIran\nكندا\tCanada\nأستراليا\tAustralia\nتركيا\tTurkey\nسوريا\tSyria\nمصر\tEgypt\nكيشيدا\tKishida\nطوكيو\tTokyo`;

const dir = sharedPath('data/mt/ntrex128');
const lines = async (file: string) => (await readFile(path.join(dir, file), 'utf8')).split('\n');
const english = await lines('newstest2019-src.eng.txt');

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
  sentences: number;
  terms: number;
  honoured: number;
  spans: number;
  copied: number;
  unspellable: number;
  inserted: number;
  ms: number;
}

const count = (text: string, part: string) => (part === '' ? 0 : text.split(part).length - 1);

async function run(lang: 'ar' | 'vi', glossary: Glossary, sources: string[], modelsDir: string) {
  const terminology = { glossary, doNotTranslate: DNT_KINDS };
  const fixedTargetTokens = (ids: readonly number[]) => ids.length;
  const translator = await Translator.load(tinyTranslatorOptions(modelsDir, lang, 'q8', { fixedTargetTokens }));
  const plan = new Terminology(lang, terminology);
  const withTerms = sources.filter((s) => plan.requirements(s).some((r) => r.kind === 'term')).slice(0, 200);
  const without = sources.filter((s) => plan.requirements(s).length === 0).slice(0, 200);
  await translator.translate(withTerms.slice(0, 10)); // warm-up
  const time = async (sentences: string[], on: boolean) => {
    const started = performance.now();
    const out = await translator.translate(sentences, undefined, on ? { terminology } : {});
    return { out, ms: performance.now() - started };
  };
  const timings = { constrained: [0, 0], unconstrained: [0, 0] };
  let last = { on: [] as Awaited<ReturnType<typeof time>>['out'], off: [] as Awaited<ReturnType<typeof time>>['out'] };
  for (let round = 0; round < 3; round++) {
    const off = await time(withTerms, false);
    const on = await time(withTerms, true);
    const plainOff = await time(without, false);
    const plainOn = await time(without, true);
    timings.constrained[0]! += off.ms;
    timings.constrained[1]! += on.ms;
    timings.unconstrained[0]! += plainOff.ms;
    timings.unconstrained[1]! += plainOn.ms;
    last = { on: on.out, off: plainOn.out };
  }
  const tally: Tally = {
    sentences: withTerms.length + without.length,
    terms: 0,
    honoured: 0,
    spans: 0,
    copied: 0,
    unspellable: 0,
    inserted: 0,
    ms: 0,
  };
  const spell = (text: string) => translator.spell(text) !== null;
  withTerms.forEach((source, i) => {
    const target = last.on[i]!.target;
    for (const r of plan.requirements(source)) {
      if (r.kind === 'term') {
        tally.terms++;
        if (count(target, r.target) > 0) tally.honoured++;
      } else if (!spell(r.target)) tally.unspellable++;
      else {
        tally.spans++;
        const needed = plan.requirements(source).filter((o) => o.target === r.target).length;
        if (count(target, r.target) >= needed) tally.copied++;
      }
    }
  });
  // Terms of the glossary that appear in an output whose source does not hold them.
  const all = [...withTerms, ...without];
  const outputs = [...last.on, ...last.off];
  all.forEach((source, i) => {
    const own = new Set(plan.requirements(source).map((r) => r.target));
    for (const entry of glossary.entries)
      if (!own.has(entry.target) && new RegExp(`\\b${entry.target}\\b`, 'u').test(outputs[i]!.target)) tally.inserted++;
  });
  await translator.dispose();
  return { lang, entries: glossary.entries.length, withTerms: withTerms.length, without: without.length, tally, timings };
}

const modelsDir = await ensureTestModels();
const vi = await lines('newstest2019-ref.vie.txt');
const ar = await lines('newstest2019-ref.arb.txt');
const results = [
  await run('vi', vietnameseGlossary(vi), vi, modelsDir),
  await run('ar', parseGlossary(ARABIC_NAMES, 'names-ar.tsv'), ar, modelsDir),
];
console.log(
  '| lang | glossary entries | sentences with terms / without | terms present | DNT spans copied (spellable) | DNT spans the tiny vocabulary cannot spell | terms inserted | speed with constraints | speed without |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const t = r.tally;
  const ratio = ([off, on]: number[]) => (on! / off!).toFixed(2);
  console.log(
    `| ${r.lang} | ${r.entries} | ${r.withTerms} / ${r.without} | ${t.honoured}/${t.terms} (${((100 * t.honoured) / t.terms).toFixed(1)}%) | ${t.copied}/${t.spans} | ${t.unspellable} | ${t.inserted} | ${ratio(r.timings.constrained)}× | ${ratio(r.timings.unconstrained)}× |`,
  );
}
