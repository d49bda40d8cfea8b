/** What the program knows about each language it reads: script, letters, encodings, sentence and summary rules. */
import { stemmer } from 'stemmer';
import * as stopword from 'stopword';
import type { LanguageCode } from './article.js';

/**
 * Adding a source language takes a `translation.models` entry; a row here is needed only for what
 * the general rules get wrong for it (abbreviations, a legacy encoding, a stemmer). A language without
 * a row is read by its script's general rules and summarised on its plain words.
 */
export interface Language {
  code: LanguageCode;
  /** Unicode script of its letters. */
  script: 'Arabic' | 'Latin';
  direction: 'ltr' | 'rtl';
  /** Letters of its alphabet with a mark; a text with none of them is not in the language (Vietnamese). */
  markedLetters?: string;
  /** Letters no other language writes: a Latin text with enough of them is this language whatever the model says. */
  ownLetters?: string;
  /**
   * Letters other languages of its script write where this one does not (Persian and Urdu against
   * Arabic), against `ownLetters` that they write otherwise: more of the first rules the language out.
   */
  othersLetters?: string;
  /** Its NLLB-200 code (`arb_Arab`): the language token of NLLB models (src/translation/families.ts). */
  nllbCode?: string;
  /** The single-byte code page its older files come in. */
  legacyEncoding?: 'windows-1256' | 'windows-1258';
  sentences: SentenceRules;
  /** How the summarizer turns a sentence's lower-cased words into terms; without it, every word is one. */
  terms?: TermRules;
}

export interface TermRules {
  /** Spelling variants folded before anything else. */
  normalize?: (word: string) => string;
  /** Whether a (normalised) word carries content: stop words do not. */
  isTerm: (word: string) => boolean;
  /** Stemmer (English) or light stemmer (Arabic); Vietnamese syllables are terms as they are. */
  stem?: (word: string) => string;
}

/** Lower-cased without the final stop; in Arabic script as written. */
export interface SentenceRules {
  /** Titles and place words written before a name, never at a sentence end (`Mr.`, `TP.`, `د.`). */
  beforeName: readonly string[];
  /** Abbreviations only before a number (`No. 5`, `p. 55`); elsewhere the word ends a sentence. */
  beforeNumber: readonly string[];
  /** Abbreviations that may end a sentence (`etc.`, `Co.`, `Oct.`): they do when the next word is a starter. */
  mayEnd: readonly string[];
  /** Capitalised words that open sentences and rarely names: they start a sentence after an abbreviation. */
  starters: readonly string[];
  /** Verbs of saying, as a quote's attribution has them (`…!" Hammel added.`). */
  speechVerbs: readonly string[];
}

const VIETNAMESE_MARKED = 'àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ';

const arabicMarks = /[\u0610-\u061A\u064B-\u065F\u0670\u0640]/g;

/** Spellings Arabic news uses interchangeably: diacritics, hamza on alef, alef maqsura, taa marbuta. */
export function normalizeArabic(word: string): string {
  return word
    .replace(arabicMarks, '')
    .replace(/[أإآٱ]/g, 'ا')
    .replace(/ى/g, 'ي')
    .replace(/ة/g, 'ه');
}

/**
 * Arabic-Indic (U+0660–0669) and Persian (U+06F0–06F9) digits as ASCII, the Arabic decimal separator
 * (U+066B) as `.`; the Arabic thousands separator (U+066C) becomes `thousands`: `,` where the English
 * must show the number as written, '' where only its value matters.
 */
export function asciiDigits(text: string, { thousands }: { thousands: ',' | '' }): string {
  return text
    .replace(/[\u0660-\u0669]/gu, (digit) => String(digit.charCodeAt(0) - 0x0660))
    .replace(/[\u06F0-\u06F9]/gu, (digit) => String(digit.charCodeAt(0) - 0x06f0))
    .replace(/\u066B/gu, '.')
    .replace(/\u066C/gu, thousands);
}

const arabicArticles = ['وال', 'بال', 'كال', 'فال', 'لل', 'ال'];
// After normalizeArabic, so taa marbuta is already ه.
const arabicSuffixes = ['ها', 'ان', 'ات', 'ون', 'ين', 'يه', 'ه', 'ي'];

/** Light stemming after Larkey et al.'s Light10: the conjunction و, the article and its clitics, suffixes. */
function lightStemArabic(word: string): string {
  let stem = word.length >= 4 && word.startsWith('و') ? word.slice(1) : word;
  const article = arabicArticles.find((prefix) => stem.startsWith(prefix) && stem.length - prefix.length >= 2);
  if (article) stem = stem.slice(article.length);
  for (const suffix of arabicSuffixes) {
    if (stem.length - suffix.length >= 2 && stem.endsWith(suffix)) stem = stem.slice(0, -suffix.length);
  }
  return stem;
}

const arabicStopwords = new Set(stopword.ara.map(normalizeArabic));
// The list mixes words of one and two syllables; the terms here are syllables.
const vietnameseStopwords = new Set(stopword.vie.filter((word) => !word.includes(' ')));
const englishStopwords = new Set(stopword.eng);

/** English titles and abbreviations other Latin-script news writes too (`Mr.`, `Dr.`, `St.`). */
const ENGLISH_TITLES = ['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'vs', 'v'];

export const LANGUAGES: readonly Language[] = [
  {
    code: 'ar',
    nllbCode: 'arb_Arab',
    script: 'Arabic',
    direction: 'rtl',
    ownLetters: 'ةيكىإؤ',
    othersLetters: 'پچژگکیٹڈڑںےۓھہۃڭېۆێڵڕەۇۈۋټډړږښګڼۍٺٽٿڀڄڃڇڊڌڍڎڏڙڦڳڱڻڪ',
    legacyEncoding: 'windows-1256',
    // دكتور, أستاذ (as in أ.د.).
    sentences: {
      beforeName: ['د', 'أ', 'أ.د'],
      beforeNumber: [],
      mayEnd: [],
      // Arabic has no capitals: verbs of reporting with the conjunction are what open its news sentences.
      starters: ['وقال', 'وقالت', 'وأضاف', 'وأضافت', 'وأكد', 'وأكدت', 'وأشار', 'وأشارت', 'وكان', 'وكانت', 'وتابع', 'ويذكر', 'كما', 'ثم'],
      speechVerbs: [],
    },
    terms: { normalize: normalizeArabic, isTerm: (word) => word.length > 1 && !arabicStopwords.has(word), stem: lightStemArabic },
  },
  {
    code: 'vi',
    nllbCode: 'vie_Latn',
    script: 'Latin',
    direction: 'ltr',
    markedLetters: VIETNAMESE_MARKED,
    // Horned o/u and vowels with a hook above or a circumflex/breve plus a tone mark; ă (Romanian),
    // đ (Croatian), ẹ ọ (Yoruba), ĩ ũ (Guarani) are shared, so left out.
    ownLetters: 'ơớờởỡợưứừửữựạảấầẩẫậắằẳẵặẻếềểễệỉỏốồổỗộủỷỵ',
    legacyEncoding: 'windows-1258',
    sentences: {
      // Thành phố, Tổng thống, Thạc sĩ, Phó giáo sư, Giáo sư, Tiến sĩ, Bác sĩ, Kỹ sư, Nhà xuất bản, Quận, Phường, Thị xã.
      beforeName: ['tp', 'tt', 'ths', 'th.s', 'pgs', 'gs', 'ts', 'bs', 'ks', 'nxb', 'q', 'p', 'tx', 'pgs.ts', 'gs.ts', ...ENGLISH_TITLES],
      beforeNumber: ['no'],
      mayEnd: ['jr', 'sr', 'co', 'inc', 'ltd', 'corp', 'etc'],
      starters: [
        'Anh',
        'Bà',
        'Bên',
        'Các',
        'Cả',
        'Chỉ',
        'Chị',
        'Cho',
        'Chúng',
        'Có',
        'Còn',
        'Cũng',
        'Đã',
        'Đây',
        'Để',
        'Điều',
        'Đó',
        'Đồng',
        'Dù',
        'Hai',
        'Hiện',
        'Họ',
        'Hôm',
        'Khi',
        'Không',
        'Mặc',
        'Một',
        'Năm',
        'Nếu',
        'Ngày',
        'Ngoài',
        'Nhưng',
        'Những',
        'Ông',
        'Sau',
        'Tại',
        'Theo',
        'Thế',
        'Tôi',
        'Trong',
        'Trước',
        'Tuy',
        'Từ',
        'Và',
        'Vì',
        'Với',
      ],
      speechVerbs: ['nói', 'chia sẻ', 'cho biết', 'hỏi', 'đưa tin', 'phát biểu', 'viết', 'nhấn mạnh', 'khẳng định'],
    },
    terms: { isTerm: (syllable) => !vietnameseStopwords.has(syllable) },
  },
  {
    code: 'en',
    nllbCode: 'eng_Latn',
    script: 'Latin',
    direction: 'ltr',
    sentences: {
      beforeName: [
        ...ENGLISH_TITLES,
        'messrs',
        'gen',
        'gov',
        'sen',
        'sens',
        'rep',
        'reps',
        'lt',
        'col',
        'capt',
        'sgt',
        'cmdr',
        'adm',
        'maj',
        'det',
        'insp',
        'supt',
        'rev',
        'hon',
        'pres',
        'mt',
      ],
      beforeNumber: ['no', 'nos', 'n°', 'p', 'pp', 'vol', 'fig', 'art', 'ch', 'sec', 'para'],
      mayEnd: [
        'jr',
        'sr',
        'etc',
        'inc',
        'ltd',
        'co',
        'corp',
        'dept',
        'univ',
        'approx',
        'est',
        'ft',
        'ave',
        'blvd',
        'rd',
        'jan',
        'feb',
        'mar',
        'apr',
        'jun',
        'jul',
        'aug',
        'sep',
        'sept',
        'oct',
        'nov',
        'dec',
      ],
      starters: [
        'A',
        'After',
        'All',
        'Also',
        'An',
        'And',
        'As',
        'At',
        'But',
        'By',
        'Did',
        'Do',
        'Does',
        'For',
        'From',
        'He',
        'Her',
        'His',
        'How',
        'However',
        'I',
        'If',
        'In',
        'It',
        'Its',
        'Many',
        'More',
        'Most',
        'My',
        'No',
        'Now',
        'On',
        'One',
        'Our',
        'She',
        'So',
        'Some',
        'That',
        'The',
        'Their',
        'There',
        'These',
        'They',
        'This',
        'Those',
        'To',
        'We',
        'What',
        'When',
        'Where',
        'Which',
        'While',
        'Who',
        'Why',
        'With',
        'Yet',
        'You',
      ],
      speechVerbs: ['said', 'says', 'added', 'adds', 'asked', 'asks', 'told', 'reported', 'wrote', 'explained', 'replied', 'noted'],
    },
    terms: { isTerm: (word) => word.length > 1 && !englishStopwords.has(word), stem: stemmer },
  },
];

const byCode = new Map(LANGUAGES.map((language) => [language.code, language]));

/** The row of a language, or undefined for one the general rules serve. */
export function languageByCode(code: LanguageCode): Language | undefined {
  return byCode.get(code);
}

/** The language translations go into; its text passes through. */
export const TARGET_LANGUAGE: LanguageCode = 'en';

/**
 * The article language of an article whose paragraphs are in several languages, none of them most of
 * it (ISO 639-2 and BCP 47 `mul`): each paragraph is then routed by its own language.
 */
export const MIXED_LANGUAGE: LanguageCode = 'mul';

/** The languages a run routes: those with a translation model, plus English, which passes through. */
export function routedLanguages(models: Readonly<Record<LanguageCode, unknown>>): LanguageCode[] {
  return [...new Set([...Object.keys(models), TARGET_LANGUAGE])];
}

/** Right-to-left languages without a row (a paragraph in them still gets `dir="rtl"`). */
const OTHER_RTL = new Set(['fa', 'ur', 'he', 'yi', 'ps', 'sd', 'ug', 'ckb', 'dv', 'ku']);

export function isRightToLeft(code: LanguageCode): boolean {
  return byCode.get(code)?.direction === 'rtl' || OTHER_RTL.has(code);
}

/** First strong character of Hebrew, Arabic, Syriac, Thaana or N'Ko script. */
const RTL_FIRST_STRONG = /^[^\p{L}]*[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/u;

/** The direction a text is written in: its language's, or for an undetermined language its first letter's. */
export function directionOf(lang: LanguageCode, text: string): 'rtl' | 'ltr' {
  if (isRightToLeft(lang)) return 'rtl';
  return lang === 'und' && RTL_FIRST_STRONG.test(text) ? 'rtl' : 'ltr';
}

/** Sentence rules every language gets: English titles that news in any Latin-script language borrows. */
export const SHARED_SENTENCE_RULES: SentenceRules = {
  beforeName: ENGLISH_TITLES,
  beforeNumber: ['no'],
  mayEnd: ['jr', 'sr'],
  starters: [],
  speechVerbs: [],
};

/**
 * The language of a text with no language given, from its letters alone: a row's script, and its own
 * letters where it has them; all-Latin text without any is English. Undefined when nothing fits.
 */
export function guessLanguage(sample: string): LanguageCode | undefined {
  if (/\p{Script=Arabic}/u.test(sample)) return LANGUAGES.find((language) => language.script === 'Arabic')?.code;
  const own = LANGUAGES.find((language) => language.ownLetters && new RegExp(`[${language.ownLetters}]`, 'iu').test(sample));
  if (own) return own.code;
  if (/^[\p{Script=Latin}\P{L}]*$/u.test(sample)) return TARGET_LANGUAGE;
  return undefined;
}
