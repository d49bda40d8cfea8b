/**
 * Generates a MarianMT or M2M-100 model folder with the layout, config, tokenizer and ONNX graph
 * inputs/outputs of the Xenova opus-mt / nllb-200 exports (Optimum + transformers.js' quantizer),
 * with random weights: the real weights cannot be downloaded on our machines, and tests and
 * benchmarks need a model that transformers.js loads and runs exactly like the real one. The graphs
 * are built from the written config.json, as the converter builds them from a checkpoint's.
 *
 *   npm run model:make -- --preset tiny --out tests/.models/Xenova/opus-mt-ar-en --seed 1 --source ar
 *   npm run model:make -- --preset tiny-m2m100 --out tests/.models/newsbridge/tiny-m2m100 --seed 4
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { languageByCode } from '../src/languages.js';
import { architectureFromConfig } from '../src/models/convert/architecture.js';
import {
  type M2M100Vocabulary,
  buildM2M100Vocabulary,
  floresCode,
  m2m100Config,
  m2m100GenerationConfig,
  m2m100OutputBias,
  m2m100SpecialTokensMap,
  m2m100TokenizerConfig,
  m2m100TokenizerJson,
} from './model/m2m100-files.js';
import {
  type ModelDims,
  PRESETS,
  eosId,
  unkId,
  type PresetName,
  type SourceLang,
  generationConfig,
  marianConfig,
  padId,
} from './model/marian-config.js';

import {
  type MarianVocabulary,
  buildVocabulary,
  specialTokensMap,
  tokenizerConfig,
  tokenizerJson,
  vocabJson,
} from './model/marian-tokenizer.js';
import { EOS_TOKEN, PAD_TOKEN, UNK_TOKEN } from '../src/models/convert/marian-tokenizer-json.js';
import { writeSafetensors } from '../src/models/convert/safetensors.js';
import { writeSentencePiece } from '../src/models/convert/sentencepiece.js';
import { toStateDict } from '../src/models/convert/state-dict.js';
import { withExternalData, writeModelGraphs } from '../src/models/convert/write-onnx.js';
import type { Seq2SeqWeights } from '../src/models/convert/weights.js';
import { randomWeights, shapeOutputPreference } from './model/seq2seq-weights.js';
import { writeShardedCheckpoint } from './model/shards.js';
import { writeTorchCheckpoint } from './model/torch-checkpoint.js';
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
  /** Write the hub's PyTorch layout (model.safetensors, .spm tokenizer files) instead of ONNX: the converter's input. */
  checkpoint?: boolean;
  /**
   * Output bias of `</s>` (default 0, as likely as any English piece). Tests of beam search raise it
   * so that hypotheses end at different lengths and the stopping rules have work to do.
   */
  eosBias?: number;
  /** Every graph's weights in `onnx/<file>.onnx_data`, as NLLB-200-600M's export has them (ONNX external data). */
  externalData?: boolean;
  /** With `checkpoint`: the weights file, model.safetensors (default) or pytorch_model.bin as torch.save writes it. */
  weights?: CheckpointWeights;
  /** With `checkpoint`: the weights in this many shards with their index, as save_pretrained(max_shard_size=…) writes them. */
  shards?: number;
}

export type CheckpointWeights = 'safetensors' | 'bin';

export interface GeneratorStamp {
  generatorVersion: number;
  preset: PresetName;
  seed: number;
  sourceLang: SourceLang;
  corpusSha256: string;
  configOnly: boolean;
  eosBias: number;
  checkpoint: boolean;
  /** Present only when true, so the stamps of models made before the option stay valid. */
  externalData?: true;
  /** Present only for pytorch_model.bin checkpoints, likewise. */
  weights?: 'bin';
  /** Present only for sharded checkpoints, likewise. */
  shards?: number;
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
    checkpoint: options.checkpoint ?? false,
    ...(options.externalData ? { externalData: true as const } : {}),
    ...(options.checkpoint && options.weights === 'bin' ? { weights: 'bin' as const } : {}),
    ...(options.checkpoint && (options.shards ?? 1) > 1 ? { shards: options.shards } : {}),
  };
}

/**
 * final_logits_bias (Marian's output-layer bias): random weights give near-uniform logits, so the
 * bias is what makes the model write English: target pieces and `</s>` 0, source-only pieces well
 * below. `</s>` is no likelier than any English piece, so greedy decoding mostly runs to the length
 * limit: random weights stop at random lengths, and callers bound max_new_tokens.
 */
export function finalLogitsBias(dims: ModelDims, vocabulary: MarianVocabulary, eosBias = 0): Float32Array {
  const bias = new Float32Array(dims.vocabSize).fill(SOURCE_PIECE_BIAS);
  for (const id of vocabulary.targetPieceIds) bias[id] = 0;
  bias[vocabulary.eosId] = eosBias;
  return bias;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The hub's PyTorch layout instead of ONNX: model.safetensors with HF's parameter names, and for
 * Marian the tokenizer as Helsinki-NLP repos ship it (source.spm, target.spm, vocab.json; the
 * generated model shares one vocabulary, so both .spm files hold it). tokenizer.json is dropped
 * for Marian, whose repos have none; NLLB repos ship one, so M2M-100 keeps it.
 */
async function writeCheckpoint(
  staging: string,
  weights: Seq2SeqWeights,
  family: ModelDims['family'],
  format: CheckpointWeights,
  shards: number,
): Promise<void> {
  if (shards > 1) await writeShardedCheckpoint(staging, toStateDict(weights), shards, format);
  else if (format === 'bin') await writeTorchCheckpoint(path.join(staging, 'pytorch_model.bin'), toStateDict(weights));
  else await writeSafetensors(path.join(staging, 'model.safetensors'), toStateDict(weights));
  await rm(path.join(staging, 'quantize_config.json'));
  if (family !== 'marian') return;
  const tokenizer = JSON.parse(await readFile(path.join(staging, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: [string, number][] };
    normalizer: { precompiled_charsmap: string };
  };
  const spm = writeSentencePiece({
    modelType: 'UNIGRAM',
    pieces: [
      { piece: UNK_TOKEN, score: 0, type: 'UNKNOWN' },
      { piece: '<s>', score: 0, type: 'CONTROL' },
      { piece: EOS_TOKEN, score: 0, type: 'CONTROL' },
      ...tokenizer.model.vocab
        .filter(([piece]) => ![UNK_TOKEN, EOS_TOKEN, PAD_TOKEN].includes(piece))
        .map(([piece, score]) => ({ piece, score, type: 'NORMAL' as const })),
    ],
    precompiledCharsmap: Buffer.from(tokenizer.normalizer.precompiled_charsmap, 'base64'),
    normalizerName: 'nmt_nfkc',
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
  });
  await writeFile(path.join(staging, 'source.spm'), spm);
  await writeFile(path.join(staging, 'target.spm'), spm);
  await rm(path.join(staging, 'tokenizer.json'));
}

/** The files every family writes next to its own: ORT's quantizer settings. */
const QUANTIZE_CONFIG = { per_channel: false, reduce_range: false, weight_type: 'QInt8', op_types_to_quantize: ['MatMul', 'Gather'] };

/** Writes the Marian JSON files and returns the config and the final_logits_bias the weights carry. */
async function writeMarianFiles(staging: string, options: MakeModelOptions, corpus: { source: string; english: string }) {
  const dims = PRESETS[options.preset];
  const sourceLang = options.sourceLang ?? 'ar';
  const vocabulary = buildVocabulary(corpus.source, corpus.english, dims.vocabSize, options.seed ?? 0, {
    eosId: eosId(dims),
    unkId: unkId(dims),
  });
  const config = marianConfig(dims, sourceLang);
  await writeJson(path.join(staging, 'config.json'), config);
  await writeJson(path.join(staging, 'generation_config.json'), generationConfig(dims));
  const charsmap = await readFile(path.join(repoRoot, 'tools/corpus/nmt_nfkc.charsmap'));
  await writeJson(path.join(staging, 'tokenizer.json'), tokenizerJson(vocabulary, charsmap.toString('base64')));
  await writeJson(path.join(staging, 'tokenizer_config.json'), tokenizerConfig(sourceLang));
  await writeJson(path.join(staging, 'special_tokens_map.json'), specialTokensMap());
  await writeJson(path.join(staging, 'vocab.json'), vocabJson(vocabulary));
  return { config, makeWeights: () => marianWeights(config, options, vocabulary) };
}

function marianWeights(config: Record<string, unknown>, options: MakeModelOptions, vocabulary: MarianVocabulary): Seq2SeqWeights {
  const bias = finalLogitsBias(PRESETS[options.preset], vocabulary, options.eosBias);
  return randomWeights(architectureFromConfig(config), options.seed ?? 0, bias);
}

async function writeM2M100Files(staging: string, options: MakeModelOptions, corpus: { source: string; english: string }) {
  const dims = PRESETS[options.preset];
  const vocabulary = buildM2M100Vocabulary(corpus.source, corpus.english, dims.vocabSize, options.seed ?? 0);
  const sourceCode = floresCode(options.sourceLang ?? 'ar');
  const config = m2m100Config(dims, vocabulary);
  await writeJson(path.join(staging, 'config.json'), config);
  await writeJson(path.join(staging, 'generation_config.json'), m2m100GenerationConfig());
  const charsmap = await readFile(path.join(repoRoot, 'tools/corpus/nmt_nfkc.charsmap'));
  await writeJson(path.join(staging, 'tokenizer.json'), m2m100TokenizerJson(vocabulary, charsmap.toString('base64'), sourceCode));
  await writeJson(path.join(staging, 'tokenizer_config.json'), m2m100TokenizerConfig(sourceCode));
  await writeJson(path.join(staging, 'special_tokens_map.json'), m2m100SpecialTokensMap());
  return { config, makeWeights: () => m2m100Weights(config, options, vocabulary) };
}

function m2m100Weights(config: Record<string, unknown>, options: MakeModelOptions, vocabulary: M2M100Vocabulary): Seq2SeqWeights {
  const weights = randomWeights(architectureFromConfig(config), options.seed ?? 0);
  shapeOutputPreference(weights, m2m100OutputBias(vocabulary, options.eosBias), options.seed ?? 0);
  return weights;
}

/**
 * The training text of a preset's tokenizer: the source language's articles for Marian (one
 * model per language pair), every sample language for M2M-100 (one model for all).
 */
async function presetCorpus(options: MakeModelOptions): Promise<{ source: string; english: string }> {
  if (PRESETS[options.preset].family === 'marian') return loadCorpus(options.sourceLang ?? 'ar');
  const [arabic, vietnamese] = await Promise.all([loadCorpus('ar'), loadCorpus('vi')]);
  return { source: `${arabic.source}\n${vietnamese.source}`, english: arabic.english };
}

export async function makeModel(options: MakeModelOptions): Promise<void> {
  const corpus = await presetCorpus(options);

  // Build next to the target and rename at the end, so a half-written folder never looks complete.
  const out = path.resolve(options.out);
  const staging = `${out}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });

  const family = PRESETS[options.preset].family;
  const { config, makeWeights } = await (family === 'marian' ? writeMarianFiles : writeM2M100Files)(staging, options, corpus);
  await writeJson(path.join(staging, 'quantize_config.json'), QUANTIZE_CONFIG);

  if (options.checkpoint) await writeCheckpoint(staging, makeWeights(), family, options.weights ?? 'safetensors', options.shards ?? 1);
  else if (!options.configOnly) {
    await mkdir(path.join(staging, 'onnx'));
    const external = await writeModelGraphs(path.join(staging, 'onnx'), makeWeights(), 'newsbridge make-model', {
      externalData: options.externalData,
    });
    if (external.length > 0) await writeJson(path.join(staging, 'config.json'), withExternalData(config, external));
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
    const expected = stampFor(options, await presetCorpus(options));
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

function parseShards(value: string): number {
  const shards = Number(value);
  if (!Number.isInteger(shards) || shards < 1) throw new InvalidArgumentError('the number of shards must be a whole number, 1 or more');
  return shards;
}

function parseLanguage(value: string): SourceLang {
  if (!/^[a-z]{2,3}$/.test(value)) throw new InvalidArgumentError('an ISO 639 code of 2–3 lowercase letters, e.g. ar, vi, id');
  return value;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('model:make')
    .description('Generate a MarianMT or M2M-100 model folder (Xenova opus-mt / nllb-200 layout) with random weights')
    .addOption(new Option('--preset <preset>', 'model size').choices(Object.keys(PRESETS)).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder, e.g. bench/.models/Xenova/opus-mt-ar-en')
    .option('--seed <n>', 'random seed', parseSeed, 0)
    .addOption(
      new Option('--source <lang>', 'source language (ISO 639 code); its script picks the tokenizer corpus')
        .argParser(parseLanguage)
        .default('ar'),
    )
    .option('--config-only', 'write the JSON files only, no ONNX graphs', false)
    .option(
      '--checkpoint',
      "write the hub's PyTorch layout (model.safetensors, source.spm/target.spm/vocab.json) for `newsbridge models convert`",
      false,
    )
    .addOption(
      new Option('--weights <format>', 'with --checkpoint: model.safetensors, or pytorch_model.bin as torch.save writes it')
        .choices(['safetensors', 'bin'])
        .default('safetensors'),
    )
    .option(
      '--shards <n>',
      'with --checkpoint: the weights in n shards and their index (model.safetensors.index.json), as save_pretrained(max_shard_size=…) writes them',
      parseShards,
      1,
    )
    .option('--external-data', "every graph's weights in onnx/<file>.onnx_data (ONNX external data), as NLLB-200-600M's export", false)
    .parse(argv);
  const { preset, out, seed, source, configOnly, checkpoint, externalData, weights, shards } = program.opts<{
    preset: PresetName;
    out: string;
    seed: number;
    source: SourceLang;
    configOnly: boolean;
    checkpoint: boolean;
    externalData: boolean;
    weights: CheckpointWeights;
    shards: number;
  }>();
  if (shards > 1 && !checkpoint) throw new InvalidArgumentError('--shards needs --checkpoint');
  const started = performance.now();
  await makeModel({ preset, out, seed, sourceLang: source, configOnly, checkpoint, externalData, weights, shards });
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
