/**
 * Cleaning eval: `npm run eval:clean -- [gold.json] [--inputs DIR] [--corpus DIR] [--limit N]`.
 * Against the hand labels in ../shared/data/seeds-gold.json (articles in ../shared/seeds): lines
 * wrongly kept (labelled boilerplate, not removed) and wrongly removed (removed, not labelled), and
 * whether the title line was found. `--corpus DIR` also runs the cleaner over a folder of articles
 * with no labels (e.g. ../shared/data/news/vi-dantri) and lists every line it removes, for reading.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SourceArticle } from '../src/article.js';
import { removeBoilerplate } from '../src/stages/clean.js';
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
  console.log(`${name}: removed ${cleaned.removed.length}, wrongly kept ${kept.length}, wrongly removed ${extra.length}, title line ${titleLine ?? '-'} (gold ${expected.title_line ?? '-'})`);
  for (const r of cleaned.removed) console.log(`    - line ${r.line} ${r.reason}: ${r.text.slice(0, 70)}`);
  for (const line of kept) console.log(`    ! kept line ${line}`);
}
console.log(`\nseeds: ${names.length} articles; wrongly kept ${wronglyKept}, wrongly removed ${wronglyRemoved}, titles wrong ${titlesWrong}`);

if (values.corpus) {
  const files = (await readdir(values.corpus)).filter((f) => /\.(txt|md)$/.test(f)).sort().slice(0, limit);
  let lines = 0;
  let removedLines = 0;
  const byReason = new Map<string, number>();
  let titles = 0;
  for (const f of files) {
    const file = path.join(values.corpus, f);
    const text = await readFile(file, 'utf8');
    const cleaned = removeBoilerplate(sourceArticle(file, text));
    lines += text.split('\n').filter((l) => l.trim() !== '').length;
    if (cleaned.title !== null) titles++;
    for (const r of cleaned.removed) {
      removedLines++;
      byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
      console.log(`  ${f}:${r.line} ${r.reason}: ${r.text.slice(0, 90)}`);
    }
  }
  console.log(
    `\ncorpus ${values.corpus}: ${files.length} articles, ${lines} lines, ${removedLines} removed (${[...byReason].map(([k, n]) => `${k} ${n}`).join(', ')}), title found in ${titles}`,
  );
}
