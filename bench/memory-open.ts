/**
 * How long a run waits on its translation memory before the first article: opening the SQLite file runs
 * `PRAGMA integrity_check` over all of it (see memory.ts), so the wait grows with the memory.
 *
 *   npm run bench:memory-open -- [--sizes 100000,1000000] [--dir DIR] [--cold]
 *
 * For each size, fills a fresh memory through `TranslationMemory.store` with that many distinct
 * news-length sentences (about 150 characters each side, in batches of 1,000 as a run stores them),
 * then opens it cold five times and prints the file size and the median time of `openForRun`,
 * then of one lookup of 64 sentences. `--cold` drops the OS page cache before each open (Linux, as root), as
 * for a nightly run whose memory was last read a day ago; without it the file is in the page cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { TranslationMemory, type ModelKey, type TranslationEntry } from '../src/translation/memory.js';

const program = new Command()
  .option('--sizes <list>', 'translations in each memory, comma-separated', '100000,1000000')
  .option('--dir <dir>', 'where to put the memories (removed afterwards)', tmpdir())
  .option('--cold', 'drop the OS page cache before each open (Linux, as root)', false)
  .parse();
const options = program.opts<{ sizes: string; dir: string; cold: boolean }>();
const sizes = options.sizes.split(',').map(Number);
if (sizes.some((size) => !Number.isInteger(size) || size < 1)) program.error('--sizes takes positive whole numbers, e.g. 100000,1000000');

const model: ModelKey = { id: 'Xenova/opus-mt-ar-en', revision: 'main', dtype: 'q8', fingerprint: 'f'.repeat(64) };
const source = (i: number) =>
  `قال المتحدث باسم الوزارة إن عدد المزارعين الذين استفادوا من البرنامج في المنطقة رقم ${i} بلغ نحو ${i % 9973} مزارعا خلال العام الماضي.`;
const target = (i: number) =>
  `The ministry spokesman said about ${i % 9973} farmers in region number ${i} benefited from the programme over the past year, officials said.`;
/** Empties the page cache, so the open reads the file from disk. */
function dropPageCache(): void {
  execFileSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
  } catch (error) {
    program.error(`--cold needs to write /proc/sys/vm/drop_caches (Linux, as root): ${(error as Error).message}`);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

console.log(
  `translations | file MB | fill s | open ms (median of 5, ${options.cold ? 'page cache dropped' : 'file in the page cache'}) | lookup of 64 ms`,
);
for (const size of sizes) {
  const dir = mkdtempSync(path.join(options.dir, 'newsbridge-memory-'));
  const file = path.join(dir, 'cache.sqlite');
  try {
    const filling = TranslationMemory.open(file);
    const started = performance.now();
    for (let start = 0; start < size; start += 1000) {
      const entries: TranslationEntry[] = [];
      for (let i = start; i < Math.min(size, start + 1000); i++) entries.push({ source: source(i), target: target(i), flags: [] });
      filling.store(model, entries);
    }
    const fill = (performance.now() - started) / 1000;
    filling.close();
    const opens: number[] = [];
    const lookups: number[] = [];
    for (let k = 0; k < 5; k++) {
      if (options.cold) dropPageCache();
      const t0 = performance.now();
      const memory = TranslationMemory.openForRun(file, (message) => console.error(message));
      opens.push(performance.now() - t0);
      const wanted = Array.from({ length: 64 }, (_, j) => source(Math.floor(((j + 1) * size) / 65)));
      const t1 = performance.now();
      const found = memory.lookup(model, wanted);
      lookups.push(performance.now() - t1);
      if (found.size !== wanted.length) throw new Error(`lookup found ${found.size} of ${wanted.length}`);
      memory.close();
    }
    const mb = (statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 1e6;
    console.log(`${size} | ${mb.toFixed(0)} | ${fill.toFixed(1)} | ${median(opens).toFixed(0)} | ${median(lookups).toFixed(1)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
