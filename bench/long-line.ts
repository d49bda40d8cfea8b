/**
 * Input limits: time and peak memory of every stage on one line of text with no punctuation, or on
 * an article of many paragraphs.
 *
 *   npm run bench:long-line -- [--chars N] [--steps K] [--shape line|paragraphs] [--translate]
 *
 * Builds a Vietnamese line of N characters (default 200,000, as in the nightly-run issue) from the
 * words of a short article, and also lines of N/2, N/4, … (K sizes in all, default 4), so the times
 * show how each stage grows (`--shape paragraphs`: distinct Arabic paragraphs instead, the shape of a
 * file near input.maxBytes): a ratio near 2 from one size to the next is linear, near 4 quadratic.
 * Each size runs in a child process of its own, so its peak RSS is its own. Stages: read, clean,
 * detect, segment, translate with the generated tiny model (q8) held to one output token per model
 * input, so the figure is the Translator's share — tokenizing, splitting into model-sized pieces,
 * encoding — and summarize. With --translate, the model decodes in full (minutes on a long line).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { removeBoilerplate } from '../src/stages/clean.js';
import { defaultConfig } from '../src/config/config.js';
import { routedLanguages } from '../src/languages.js';
import { detectLanguage, LanguageDetector } from '../src/stages/detect.js';
import { readArticleFile } from '../src/input/read-file.js';
import { segmentSentences } from '../src/stages/segment.js';
import { summarizeArticle } from '../src/stages/summarize.js';
import { configuredModels } from '../src/models/layout.js';
import { translateArticle, type TranslationBackend } from '../src/stages/translate.js';
import { Translator } from '../src/translation/translator.js';
import { repoRoot } from '../tools/repo-root.js';
import { ensureTestModels } from '../tools/test-models.js';

const WORDS = (
  'Giá xăng giảm lần thứ ba liên tiếp Liên Bộ Công Thương Tài chính vừa quyết định giảm giá xăng dầu từ 15h chiều nay ' +
  'Theo đó giá xăng RON 95 giảm hơn 300 đồng mỗi lít còn giá dầu diesel giảm khoảng 200 đồng'
).split(' ');

const ARABIC_PARAGRAPH =
  'أعلنت الحكومة يوم الأحد عن خطة جديدة لدعم المزارعين في المناطق الريفية، تشمل قروضا ميسرة وبذورا محسنة. ' +
  'وقال وزير الزراعة إن الخطة ستنفذ على مدى ثلاث سنوات، وإنها تهدف إلى زيادة الإنتاج المحلي من القمح.';

/** Distinct Arabic paragraphs (each names its number), blank-line separated, `chars` in all. */
function manyParagraphs(chars: number): string {
  const parts: string[] = [];
  for (let i = 0, length = 0; length < chars; i++) {
    const paragraph = `${ARABIC_PARAGRAPH} وبلغ عدد المستفيدين ${i + 1} مزارعا.`;
    parts.push(paragraph);
    length += paragraph.length + 2;
  }
  return parts.join('\n\n').slice(0, chars);
}

function longLine(chars: number): string {
  const parts: string[] = [];
  for (let i = 0, length = 0; length < chars; i++) {
    const word = WORDS[i % WORDS.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ').slice(0, chars);
}

type Shape = 'line' | 'paragraphs';

interface Figures {
  chars: number;
  ms: Record<string, number>;
  pieces: number;
  peakRssMb: number;
  baselineRssMb: number;
}

/** One size, in this process: the stages in order, timed. */
async function measure(shape: Shape, chars: number, modelsDir: string, translate: boolean): Promise<Figures> {
  const lang = shape === 'line' ? 'vi' : 'ar';
  const model = configuredModels(defaultConfig.translation.models, modelsDir).find((m) => m.lang === lang)!;
  let pieces = 0;
  const { dtype, batchTokens, maxInputTokens, maxNewTokensRatio, numBeams, noRepeatNgramSize, repetitionPenalty } =
    defaultConfig.translation;
  const translator = await Translator.load({
    dtype,
    batchTokens,
    maxInputTokens,
    maxNewTokensRatio,
    numBeams,
    noRepeatNgramSize,
    repetitionPenalty,
    modelDir: model.dir,
    model: { lang, id: model.id, revision: model.revision, dtype },
    onBatch: (batch) => (pieces += batch.sentences),
    // Without --translate, one token per model input: the figures are of getting the text in.
    ...(translate ? {} : { fixedTargetTokens: () => 1 }),
  });
  const backend: TranslationBackend = {
    supports: () => true,
    translate: async (_lang, sources) => ({
      model: translator.model,
      targets: await translator.translate(sources),
    }),
  };
  const detector = await LanguageDetector.create(routedLanguages(defaultConfig.translation.models), defaultConfig.detect);
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const dir = mkdtempSync(path.join(tmpdir(), 'newsbridge-long-line-'));
  const ms: Record<string, number> = {};
  const timed = async <T>(stage: string, work: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    ms[stage] = Math.round(performance.now() - started);
    return result;
  };
  try {
    const file = path.join(dir, 'long-line.txt');
    writeFileSync(file, shape === 'line' ? longLine(chars) : manyParagraphs(chars));
    const read = await timed('read', () => readArticleFile(file, dir, defaultConfig.input.maxBytes));
    const cleaned = await timed('clean', () => removeBoilerplate(read));
    const detected = await timed('detect', () => detectLanguage(cleaned, detector));
    const segmented = await timed('segment', () => segmentSentences(detected));
    const translated = await timed(translate ? 'translate' : 'translate (1 token out)', () => translateArticle(segmented, backend));
    await timed('summarize', () => summarizeArticle(translated, defaultConfig.summary));
    return { chars, ms, pieces, peakRssMb: process.resourceUsage().maxRSS / 1024, baselineRssMb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await translator.dispose();
  }
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const program = new Command('bench:long-line')
  .option('--chars <n>', 'characters in the longest line', positive, 200_000)
  .option('--steps <k>', 'sizes measured: chars, chars/2, chars/4, …', positive, 4)
  .option('--shape <shape>', '`line`: one Vietnamese line without punctuation; `paragraphs`: many short Arabic paragraphs', 'line')
  .option('--translate', 'let the tiny model decode in full (takes minutes on a long line)')
  .option('--child <n>', 'internal: measure one size in this process')
  .parse();
const options = program.opts<{ chars: number; steps: number; shape: string; translate?: boolean; child?: string }>();
if (options.shape !== 'line' && options.shape !== 'paragraphs') program.error('--shape must be line or paragraphs');
const shape = options.shape as Shape;

if (options.child) {
  const figures = await measure(shape, Number(options.child), path.join(repoRoot, 'tests', '.models'), Boolean(options.translate));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  await ensureTestModels();
  const sizes = Array.from({ length: options.steps }, (_, i) => Math.round(options.chars / 2 ** (options.steps - 1 - i)));
  const rows: Figures[] = [];
  for (const size of sizes) {
    const translate = options.translate ? ['--translate'] : [];
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(size), '--shape', shape, ...translate],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    if (child.status !== 0) throw new Error(`the measurement of ${size} characters failed (exit ${child.status})`);
    rows.push(JSON.parse(child.stdout) as Figures);
  }
  const stages = Object.keys(rows[rows.length - 1]!.ms);
  console.log(`chars\t${stages.map((s) => `${s} ms`).join('\t')}\tpieces\tpeak RSS MB (after loading: MB)`);
  for (const row of rows) {
    const cells = stages.map((stage) => String(row.ms[stage] ?? '-'));
    console.log(`${row.chars}\t${cells.join('\t')}\t${row.pieces}\t${row.peakRssMb.toFixed(0)} (${row.baselineRssMb.toFixed(0)})`);
  }
  const [smaller, largest] = [rows[rows.length - 2], rows[rows.length - 1]!];
  if (smaller) {
    const growth = stages
      .filter((stage) => (smaller.ms[stage] ?? 0) >= 20)
      .map((stage) => `${stage} ×${(largest.ms[stage]! / smaller.ms[stage]!).toFixed(2)}`);
    console.log(`time from ${smaller.chars} to ${largest.chars} characters (×2; ×4 would be quadratic): ${growth.join(', ')}`);
  }
}
