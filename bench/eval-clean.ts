/**
 * Cleaning eval: `npm run eval:clean -- [gold.json] [--inputs DIR] [--corpus DIR] [--limit N]`.
 * Against the hand labels in ../shared/data/seeds-gold.json (articles in ../shared/seeds): lines
 * wrongly kept (labelled boilerplate, not removed) and wrongly removed (removed, not labelled), and
 * whether the title line was found. `--corpus DIR` also cleans a folder of articles with no labels
 * (e.g. ../shared/data/news/vi-dantri) as a run does, with the lines repeated across them, lists every
 * line it removes, for reading, and then checks the same folder with site-wide lines injected.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { CleanedArticle, SourceArticle } from '../src/article.js';
import { findRepeatedLines, normalizeLine, removeBoilerplate } from '../src/stages/clean.js';
import { sharedPath } from './shared-data.js';

interface GoldArticle {
  title_line: number | null;
  drop_lines: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { inputs: { type: 'string' }, corpus: { type: 'string' }, limit: { type: 'string' } },
});
const goldFile = positionals[0] ?? sharedPath('data/seeds-gold.json');
const inputs = values.inputs ?? sharedPath('seeds');
const limit = values.limit ? Number(values.limit) : Infinity;

function sourceArticle(file: string, text: string): SourceArticle {
  const bytes = Buffer.byteLength(text);
  return { id: path.basename(file, path.extname(file)), source: { path: file, bytes, encoding: 'utf-8', sha256: '' }, text };
}

const gold = JSON.parse(await readFile(goldFile, 'utf8')) as { articles: Record<string, GoldArticle> };
let wronglyKept = 0;
let wronglyRemoved = 0;
let titlesWrong = 0;
const names = Object.keys(gold.articles).sort().slice(0, limit);
for (const name of names) {
  const expected = gold.articles[name]!;
  const file = path.join(inputs, name);
  const cleaned = removeBoilerplate(sourceArticle(file, await readFile(file, 'utf8')));
  const removed = new Map(cleaned.removed.map((r) => [r.line, r]));
  const kept = expected.drop_lines.filter((line) => !removed.has(line));
  const extra = cleaned.removed.filter((r) => !expected.drop_lines.includes(r.line));
  const titleLine = cleaned.paragraphs.find((p) => p.kind === 'title')?.line ?? null;
  wronglyKept += kept.length;
  wronglyRemoved += extra.length;
  if (titleLine !== expected.title_line) titlesWrong++;
  console.log(
    `${name}: removed ${cleaned.removed.length}, wrongly kept ${kept.length}, wrongly removed ${extra.length}, title line ${titleLine ?? '-'} (gold ${expected.title_line ?? '-'})`,
  );
  for (const r of cleaned.removed) console.log(`    - line ${r.line} ${r.reason}: ${r.text.slice(0, 70)}`);
  for (const line of kept) console.log(`    ! kept line ${line}`);
}
console.log(
  `\nseeds: ${names.length} articles; wrongly kept ${wronglyKept}, wrongly removed ${wronglyRemoved}, titles wrong ${titlesWrong}`,
);

if (values.corpus) {
  const files = (await readdir(values.corpus))
    .filter((f) => /\.(txt|md)$/.test(f))
    .sort()
    .slice(0, limit);
  const corpus = await Promise.all(
    files.map(async (f) => sourceArticle(path.join(values.corpus!, f), await readFile(path.join(values.corpus!, f), 'utf8'))),
  );
  injectedCorpus(corpus, reportCorpus(`corpus ${values.corpus}`, corpus, true));
}

/**
 * Cleans a corpus as a run does, with the lines its sites repeat, and lists every removed line. Says
 * how many of the lines removed as repeated are prose (a sentence of five or more words: body text if
 * anything is) and how the result differs from cleaning each article alone.
 */
function reportCorpus(label: string, corpus: SourceArticle[], list: boolean): Map<string, CleanedArticle> {
  const started = performance.now();
  const repeated = findRepeatedLines(corpus);
  const findMs = performance.now() - started;
  let lines = 0;
  let titles = 0;
  const byReason = new Map<string, number>();
  const cleaned = new Map<string, CleanedArticle>();
  let proseRemoved = 0;
  let changedTitles = 0;
  const titlesAlone = new Map<string, string | null>();
  for (const article of corpus) {
    const alone = removeBoilerplate(article);
    const result = removeBoilerplate(article, { repeatedLines: repeated });
    cleaned.set(article.id, result);
    lines += article.text.split('\n').filter((l) => l.trim() !== '').length;
    if (result.title !== null) titles++;
    if (result.title !== alone.title) changedTitles++;
    titlesAlone.set(article.id, alone.title);
    for (const r of result.removed) {
      byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
      if (r.reason === 'repeated-across-corpus' && /[.!?؟…]["'”’»)\]]*$/u.test(r.text) && r.text.split(/\s+/u).length >= 5) proseRemoved++;
      if (list) console.log(`  ${article.id}:${r.line} ${r.reason}: ${r.text.slice(0, 90)}`);
    }
  }
  const removed = [...byReason.values()].reduce((a, b) => a + b, 0);
  console.log(
    `\n${label}: ${corpus.length} articles, ${lines} lines, ${removed} removed (${[...byReason].map(([k, n]) => `${k} ${n}`).join(', ')}), title found in ${titles}`,
  );
  console.log(`  finding the repeated lines (texts in memory): ${findMs.toFixed(0)} ms`);
  const articlesWith = articlesPerLine(corpus);
  for (const [site, found] of Object.entries(repeated)) {
    console.log(`  repeated on site ${site}: ${found.length} lines`);
    for (const line of found) console.log(`    ${articlesWith.get(line) ?? 0} articles: ${line.slice(0, 90)}`);
  }
  console.log(
    `  lines removed as repeated that are prose (5+ words, final stop): ${proseRemoved}; titles that differ from cleaning each article alone: ${changedTitles}`,
  );
  if (list)
    for (const [id, result] of cleaned)
      if (result.title !== titlesAlone.get(id)) console.log(`    title of ${id}: ${result.title} (alone: ${titlesAlone.get(id)})`);
  return cleaned;
}

/** How many articles each normalized line occurs in, counted in one pass over the corpus. */
function articlesPerLine(corpus: SourceArticle[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const article of corpus) {
    for (const line of new Set(article.text.split('\n').map(normalizeLine))) counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

/**
 * The corpus with site-wide lines injected, as a generated night of one site: a newsletter plug (a
 * sentence) at the end of every article, a copyright line at the top of every article, a "read also"
 * headline in the middle of every fifth one; and three articles copied as versions of one story (one
 * line changed each), whose shared paragraphs must stay. Checks that the injected lines, and only
 * they, are removed on top of what the real corpus loses (`plain`: the real corpus as `reportCorpus`
 * cleaned it, with its repeated lines found once).
 */
function injectedCorpus(corpus: SourceArticle[], plain: Map<string, CleanedArticle>): void {
  const plug = 'Đăng ký nhận bản tin của chúng tôi để đọc những tin tức mới nhất mỗi sáng.';
  const copyright = '© Bản quyền thuộc về báo điện tử, cấm sao chép dưới mọi hình thức';
  const readAlso = 'Giá vàng hôm nay tăng mạnh sau phiên giảm sâu của thị trường thế giới';
  const injected = corpus.map((article, index) => {
    const lines = article.text.split('\n');
    const middle = Math.floor(lines.length / 2);
    if (index % 5 === 0) lines.splice(middle, 0, readAlso);
    return { ...article, text: [copyright, ...lines, plug].join('\n') };
  });
  const versions = [0, 1, 2].map((k) => {
    const lines = corpus[0]!.text.split('\n');
    lines[lines.length - 1] = `${lines[lines.length - 1]} (Cập nhật lần ${k + 1}.)`;
    return { ...corpus[0]!, id: `${corpus[0]!.id}-v${k + 1}`, text: lines.join('\n') };
  });
  const cleaned = reportCorpus(
    'generated corpus (real corpus + injected site-wide lines + 3 versions of one story)',
    [...injected, ...versions],
    false,
  );
  const isInjected = (text: string) => [plug, copyright, readAlso].includes(text);
  let missed = 0;
  let extra = 0;
  let sameTitle = 0;
  for (const article of injected) {
    const before = new Set(plain.get(article.id)!.removed.map((r) => r.text));
    const after = cleaned.get(article.id)!;
    if (after.title === plain.get(article.id)!.title) sameTitle++;
    missed += after.paragraphs.filter((p) => isInjected(p.text)).length;
    extra += after.removed.filter((r) => !isInjected(r.text) && !before.has(r.text)).length;
  }
  const versionLinesRemoved = versions.reduce(
    (sum, v) => sum + cleaned.get(v.id)!.removed.filter((r) => r.reason === 'repeated-across-corpus' && !isInjected(r.text)).length,
    0,
  );
  console.log(
    `  injected lines kept: ${missed} (of ${injected.length * 2 + Math.ceil(injected.length / 5)}); other lines removed beyond the real corpus's: ${extra}; ` +
      `titles as in the real corpus: ${sameTitle}/${injected.length}; lines of the 3 story versions removed as repeated: ${versionLinesRemoved}`,
  );
  if (missed > 0 || extra > 0 || sameTitle < injected.length || versionLinesRemoved > 0) {
    console.error('FAIL: the injected lines must all go, and nothing else, with every title as before');
    process.exitCode = 1;
  }
}
