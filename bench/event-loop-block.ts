/**
 * The longest the main thread's event loop is blocked while one long article goes through the
 * pipeline: what `queue.lockTimeoutSeconds` must stay above, since a worker renews its job locks
 * from timers on that thread.
 *
 *   npm run bench:event-loop-block -- --models-dir DIR [--bytes N] [--dtype q8|fp32]
 *
 * Writes one Arabic article of distinct paragraphs, `--bytes` long (default `input.maxBytes`, the
 * largest a worker reads), and runs it through `runPipeline` (read, clean, detect, segment,
 * translate its first `translation.maxArticleChars` characters, summarize, write) with the Arabic
 * model in DIR (e.g. one `npm run model:make -- --preset opus-mt-base` made), translation memory off.
 * Prints the longest event-loop delay (perf_hooks.monitorEventLoopDelay) and the longest gap
 * between ticks of a 10 ms timer, which is what a heartbeat timer would see.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Command } from 'commander';
import { configSchema, defaultConfig } from '../src/config/config.js';
import { runPipeline } from '../src/run/pipeline.js';

const PARAGRAPH =
  'أعلنت الحكومة يوم الأحد عن خطة جديدة لدعم المزارعين في المناطق الريفية، تشمل قروضا ميسرة وبذورا محسنة. ' +
  'وقال وزير الزراعة إن الخطة ستنفذ على مدى ثلاث سنوات، وإنها تهدف إلى زيادة الإنتاج المحلي من القمح.';

/** Distinct paragraphs (each names its number), blank-line separated, about `bytes` of UTF-8. */
function article(bytes: number): string {
  const parts = ['خطة حكومية جديدة لدعم المزارعين'];
  for (let i = 0, length = 0; length < bytes; i++) {
    const paragraph = `${PARAGRAPH} وبلغ عدد المستفيدين ${i + 1} مزارعا في المرحلة رقم ${i % 97}.`;
    parts.push(paragraph);
    length += Buffer.byteLength(paragraph) + 2;
  }
  return `${parts.join('\n\n')}\n`;
}

const program = new Command()
  .requiredOption('--models-dir <dir>', 'models folder holding Xenova/opus-mt-ar-en')
  .option('--bytes <n>', 'article size in bytes (default: input.maxBytes)', String(defaultConfig.input.maxBytes - 1024))
  .option('--dtype <dtype>', 'q8 or fp32', 'q8')
  .parse();
const flags = program.opts<{ modelsDir: string; bytes: string; dtype: 'q8' | 'fp32' }>();

const work = mkdtempSync(path.join(tmpdir(), 'newsbridge-event-loop-'));
try {
  const text = article(Number(flags.bytes));
  writeFileSync(path.join(work, 'long.txt'), text);
  const config = configSchema.parse({
    input: { patterns: [`${work}/*.txt`] },
    output: { dir: path.join(work, 'out') },
    translation: {
      modelsDir: path.resolve(flags.modelsDir),
      download: false,
      dtype: flags.dtype,
      models: { ar: { id: 'Xenova/opus-mt-ar-en' } },
    },
    cache: { enabled: false },
  });

  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let last = performance.now();
  let longestGap = { ms: 0, atSecond: 0 };
  const started = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > longestGap.ms) longestGap = { ms: now - last, atSecond: (last - started) / 1000 };
    last = now;
  }, 10);
  histogram.enable();
  const report = await runPipeline({ config });
  histogram.disable();
  clearInterval(ticker);
  const seconds = (performance.now() - started) / 1000;

  console.log(
    `article: ${Buffer.byteLength(text).toLocaleString('en')} bytes, ${text.length.toLocaleString('en')} characters; status ${JSON.stringify(report.articles)}`,
  );
  console.log(`model calls ${report.modelCalls}, sentences to the model ${report.sentencesToModel}; whole run ${seconds.toFixed(1)} s`);
  console.log(
    `event-loop delay: max ${(histogram.max / 1e6).toFixed(0)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(0)} ms, mean ${(histogram.mean / 1e6).toFixed(1)} ms`,
  );
  console.log(
    `longest gap between 10 ms timer ticks: ${longestGap.ms.toFixed(0)} ms, starting ${longestGap.atSecond.toFixed(1)} s into the run`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
