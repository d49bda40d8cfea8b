import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Synthetic news corpora for the crash harness and the benches: N articles made by recombining real
 * ones. Each generated article keeps a real article's title and paragraph order, with some of its
 * paragraphs swapped for paragraphs of other articles in the same language, so articles are distinct
 * but read like news and share sentences the way a real feed does.
 */

export type CorpusLanguage = 'ar' | 'vi';

export interface RealArticle {
  file: string;
  lang: CorpusLanguage;
  title: string;
  body: string[];
}

export interface CorpusOptions {
  n: number;
  seed: number;
  /** Folders of `.txt` articles (title line, then one paragraph per line). */
  sourceDirs: string[];
  outDir: string;
  /** Share of Arabic articles when both languages are available; by default their share of the sources. */
  arabicShare?: number;
  /** Chance that a body paragraph is swapped for another article's. */
  swapRate?: number;
}

export interface Corpus {
  files: string[];
  bytes: number;
  byLanguage: Record<CorpusLanguage, number>;
}

/** mulberry32: a small seeded generator, so a corpus (and a kill schedule) can be made again. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function readSourceArticles(dirs: readonly string[]): RealArticle[] {
  const articles: RealArticle[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(dir)
      .filter((file) => file.endsWith('.txt'))
      .sort()) {
      const file = path.join(dir, name);
      const lines = readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '');
      const [title, ...body] = lines;
      if (title === undefined || body.length === 0) continue;
      const arabicLetters = (lines.join('').match(/\p{Script=Arabic}/gu) ?? []).length;
      articles.push({ file, lang: arabicLetters > lines.join('').length / 4 ? 'ar' : 'vi', title, body });
    }
  }
  return articles;
}

/** Writes `n` articles into `outDir` as `<lang>-<index>.txt` and returns what it wrote. */
export function writeCorpus(options: CorpusOptions): Corpus {
  const random = seededRandom(options.seed);
  const sources = readSourceArticles(options.sourceDirs);
  const pools: Record<CorpusLanguage, RealArticle[]> = {
    ar: sources.filter((article) => article.lang === 'ar'),
    vi: sources.filter((article) => article.lang === 'vi'),
  };
  if (pools.ar.length + pools.vi.length === 0) throw new Error(`no articles in ${options.sourceDirs.join(', ')}`);
  const arabicShare = pools.ar.length === 0 ? 0 : pools.vi.length === 0 ? 1 : (options.arabicShare ?? pools.ar.length / sources.length);
  const swapRate = options.swapRate ?? 0.3;
  const donors = (lang: CorpusLanguage) => pools[lang].flatMap((article) => article.body);
  const paragraphsOf = { ar: donors('ar'), vi: donors('vi') };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  mkdirSync(options.outDir, { recursive: true });
  const seen = new Set<string>();
  const corpus: Corpus = { files: [], bytes: 0, byLanguage: { ar: 0, vi: 0 } };
  const width = String(options.n).length;
  const counters = { ar: 0, vi: 0 };
  for (let index = 0; index < options.n; index++) {
    const lang: CorpusLanguage = random() < arabicShare ? 'ar' : 'vi';
    // Walk the pool in order so every real article is used before any is used twice.
    const base = pools[lang][counters[lang]++ % pools[lang].length]!;
    let text = '';
    for (let attempt = 0; attempt < 20; attempt++) {
      const swap = attempt === 0 && counters[lang] <= pools[lang].length ? 0 : swapRate;
      const body = base.body.map((paragraph) => (random() < swap ? pick(paragraphsOf[lang]) : paragraph));
      text = `${[base.title, ...body].join('\n')}\n`;
      const digest = createHash('sha256').update(text).digest('hex');
      if (!seen.has(digest)) {
        seen.add(digest);
        break;
      }
    }
    const file = path.join(options.outDir, `${lang}-${String(index).padStart(width, '0')}.txt`);
    writeFileSync(file, text);
    corpus.files.push(file);
    corpus.bytes += Buffer.byteLength(text);
    corpus.byLanguage[lang]++;
  }
  return corpus;
}
