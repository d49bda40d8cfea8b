/**
 * Generates a MarianMT model folder with the layout, config, tokenizer and ONNX graph
 * inputs/outputs of the Xenova opus-mt exports (Optimum + transformers.js' quantizer), with random
 * weights: the real weights cannot be downloaded on our machines, and tests and benchmarks need a
 * model that transformers.js loads and runs exactly like the real one.
 *
 *   npm run model:make -- --preset tiny --out tests/.models/Xenova/opus-mt-ar-en --seed 1 --source ar
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { languageByCode } from '../src/languages.js';
import {
  EOS_ID,
  type MarianDims,
  PRESETS,
  type PresetName,
  type SourceLang,
  generationConfig,
  marianConfig,
  padId,
} from './model/marian-config.js';
import { buildEncoderGraph, buildMergedDecoderGraph } from './model/marian-onnx.js';
import {
  type MarianVocabulary,
  buildVocabulary,
  specialTokensMap,
  tokenizerConfig,
  tokenizerJson,
  vocabJson,
} from './model/marian-tokenizer.js';
import { randomMarianWeights } from './model/marian-weights.js';
import { type Graph, serializeModel } from './model/onnx-graph.js';
import { quantizeDynamic } from './model/quantize.js';
import { repoRoot } from './repo-root.js';

/** Bump when the generated files change, so cached test models are regenerated. */
export const GENERATOR_VERSION = 7;
export const STAMP_FILE = 'generator-stamp.json';

const SOURCE_PIECE_BIAS = -4;

export interface MakeModelOptions {
  preset: PresetName;
  out: string;
  seed?: number;
  sourceLang?: SourceLang;
  /** Write only the JSON files (config, tokenizer), not the ONNX graphs. */
  configOnly?: boolean;
  /**
   * Output bias of `</s>` (default 0, as likely as any English piece). Tests of beam search raise it
   * so that hypotheses end at different lengths and the stopping rules have work to do.
   */
  eosBias?: number;
}

export interface GeneratorStamp {
  generatorVersion: number;
  preset: PresetName;
  seed: number;
  sourceLang: SourceLang;
  corpusSha256: string;
  configOnly: boolean;
  eosBias: number;
}

/** The sample articles in input/ in the source language's script (Arabic or Latin), plus the English text in tools/corpus/. */
export async function loadCorpus(sourceLang: SourceLang): Promise<{ source: string; english: string }> {
  const inputDir = path.join(repoRoot, 'input');
  const files = (await readdir(inputDir)).filter((f) => f.endsWith('.txt')).sort();
  const texts = await Promise.all(files.map((f) => readFile(path.join(inputDir, f), 'utf8')));
  const isArabic = (text: string) => {
    const letters = text.match(/\p{L}/gu) ?? [];
    return letters.filter((c) => /\p{Script=Arabic}/u.test(c)).length > letters.length / 2;
  };
  const arabicScript = languageByCode(sourceLang)?.script === 'Arabic';
  const source = texts.filter((t) => isArabic(t) === arabicScript).join('\n');
  if (source.trim() === '') {
    throw new Error(`${inputDir} has no ${sourceLang} article to train the tokenizer on; add one (a .txt file) and rerun`);
  }
  const english = await readFile(path.join(repoRoot, 'tools/corpus/en.txt'), 'utf8');
  return { source, english };
}

function stampFor(options: MakeModelOptions, { source, english }: { source: string; english: string }): GeneratorStamp {
  const sourceLang = options.sourceLang ?? 'ar';
  return {
    generatorVersion: GENERATOR_VERSION,
    preset: options.preset,
    seed: options.seed ?? 0,
    sourceLang,
    corpusSha256: createHash('sha256').update(source).update('\0').update(english).digest('hex'),
    configOnly: options.configOnly ?? false,
    eosBias: options.eosBias ?? 0,
  };
}

/**
 * final_logits_bias (Marian's output-layer bias): random weights give near-uniform logits, so the
 * bias is what makes the model write English: target pieces and `</s>` 0, source-only pieces well
 * below. `</s>` is no likelier than any English piece, so greedy decoding mostly runs to the length
 * limit: random weights stop at random lengths, and callers bound max_new_tokens.
 */
export function finalLogitsBias(dims: MarianDims, vocabulary: MarianVocabulary, eosBias = 0): Float32Array {
  const bias = new Float32Array(dims.vocabSize).fill(SOURCE_PIECE_BIAS);
  for (const id of vocabulary.targetPieceIds) bias[id] = 0;
  bias[EOS_ID] = eosBias;
  return bias;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

async function writeGraph(file: string, graph: Graph): Promise<void> {
  await writeFile(file, serializeModel(graph, 'newsbridge make-model'));
}

async function writeOnnxPair(dir: string, baseName: string, graph: Graph): Promise<void> {
  await writeGraph(path.join(dir, `${baseName}.onnx`), graph);
  await writeGraph(path.join(dir, `${baseName}_quantized.onnx`), quantizeDynamic(graph));
}

export async function makeModel(options: MakeModelOptions): Promise<void> {
  const dims = PRESETS[options.preset];
  const seed = options.seed ?? 0;
  const sourceLang = options.sourceLang ?? 'ar';
  const corpus = await loadCorpus(sourceLang);

  // Build next to the target and rename at the end, so a half-written folder never looks complete.
  const out = path.resolve(options.out);
  const staging = `${out}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });

  const vocabulary = buildVocabulary(corpus.source, corpus.english, dims.vocabSize, seed);
  await writeJson(path.join(staging, 'config.json'), marianConfig(dims, sourceLang));
  await writeJson(path.join(staging, 'generation_config.json'), generationConfig(dims));
  const charsmap = await readFile(path.join(repoRoot, 'tools/corpus/nmt_nfkc.charsmap'));
  await writeJson(path.join(staging, 'tokenizer.json'), tokenizerJson(vocabulary, charsmap.toString('base64')));
  await writeJson(path.join(staging, 'tokenizer_config.json'), tokenizerConfig(sourceLang));
  await writeJson(path.join(staging, 'special_tokens_map.json'), specialTokensMap());
  await writeJson(path.join(staging, 'vocab.json'), vocabJson(vocabulary));
  await writeJson(path.join(staging, 'quantize_config.json'), {
    per_channel: false,
    reduce_range: false,
    weight_type: 'QInt8',
    op_types_to_quantize: ['MatMul', 'Gather'],
  });

  if (!options.configOnly) {
    const weights = randomMarianWeights(dims, seed, finalLogitsBias(dims, vocabulary, options.eosBias));
    await mkdir(path.join(staging, 'onnx'));
    await writeOnnxPair(path.join(staging, 'onnx'), 'encoder_model', buildEncoderGraph(weights));
    await writeOnnxPair(path.join(staging, 'onnx'), 'decoder_model_merged', buildMergedDecoderGraph(weights));
  }
  await writeJson(path.join(staging, STAMP_FILE), stampFor(options, corpus));
  await replaceFolder(staging, out, options);
}

/**
 * Moves the staged model into place. Generation is deterministic, so when a concurrent run (another
 * vitest process) has put an identical model there between our rm and rename, that one is kept.
 */
async function replaceFolder(staging: string, out: string, options: MakeModelOptions): Promise<void> {
  await mkdir(path.dirname(out), { recursive: true });
  await rm(out, { recursive: true, force: true });
  try {
    await rename(staging, out);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (!(await isUpToDate({ ...options, out }))) throw error;
  }
}

/** True when `dir` holds a complete model made by this generator version with these options. */
export async function isUpToDate(options: MakeModelOptions): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(path.join(options.out, STAMP_FILE), 'utf8')) as GeneratorStamp;
    const expected = stampFor(options, await loadCorpus(options.sourceLang ?? 'ar'));
    return JSON.stringify(stamp) === JSON.stringify(expected);
  } catch {
    return false;
  }
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidArgumentError('the seed must be an integer between 0 and 4294967295');
  }
  return seed;
}

function parseLanguage(value: string): SourceLang {
  if (!/^[a-z]{2,3}$/.test(value)) throw new InvalidArgumentError('an ISO 639 code of 2–3 lowercase letters, e.g. ar, vi, id');
  return value;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('model:make')
    .description('Generate a MarianMT model folder (Xenova opus-mt layout) with random weights')
    .addOption(new Option('--preset <preset>', 'model size').choices(['tiny', 'opus-mt-base']).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder, e.g. bench/.models/Xenova/opus-mt-ar-en')
    .option('--seed <n>', 'random seed', parseSeed, 0)
    .addOption(
      new Option('--source <lang>', 'source language (ISO 639 code); its script picks the tokenizer corpus')
        .argParser(parseLanguage)
        .default('ar'),
    )
    .option('--config-only', 'write the JSON files only, no ONNX graphs', false)
    .parse(argv);
  const { preset, out, seed, source, configOnly } = program.opts<{
    preset: PresetName;
    out: string;
    seed: number;
    source: SourceLang;
    configOnly: boolean;
  }>();
  const started = performance.now();
  await makeModel({ preset, out, seed, sourceLang: source, configOnly });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const pad = padId(PRESETS[preset]);
  console.log(`${preset} model (${source}→en, seed ${seed}, pad id ${pad}) written to ${out} in ${seconds} s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
