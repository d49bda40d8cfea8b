/**
 * `newsbridge models convert`: a checkpoint in the hub's PyTorch layout (config.json, model.safetensors
 * or else pytorch_model.bin, either of them possibly sharded, the tokenizer files) → the ONNX layout newsbridge and transformers.js load
 * (onnx/encoder_model*.onnx, onnx/decoder_model_merged*.onnx fp32 + q8, tokenizer.json,
 * generation_config.json). The graphs come from the same builder as the generated test models,
 * fed the checkpoint's weights. Written into a staging folder renamed into place at the end.
 */
import { access, copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { architectureFromConfig } from './architecture.js';
import { marianTokenizerJson } from './marian-tokenizer-json.js';
import { readSafetensors } from './safetensors.js';
import { readSentencePiece } from './sentencepiece.js';
import { isShardIndex, readCheckpointIndex, readShards, type ShardedTensors } from './sharded.js';
import { fromStateDict } from './state-dict.js';
import { readTorchCheckpoint } from './torch-checkpoint.js';
import { withExternalData, writeModelGraphs } from './write-onnx.js';

/** Files of a hub repo the converted folder keeps as they are. */
const KEPT_FILES = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'source.spm',
  'target.spm',
  'sentencepiece.bpe.model',
];

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}; the checkpoint folder needs it`);
  }
}

/** Checkpoint files a hub repo may have, as `models pull` downloads them for conversion. */
export const CHECKPOINT_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', ...KEPT_FILES];

/**
 * The weights files a checkpoint may have, the preferred first, as transformers' from_pretrained looks
 * for them: safetensors (one file, then a sharded checkpoint's index) before the pickle of torch.save.
 */
export const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'];

/**
 * The weights file: safetensors when the repo has it (no pickle to read), else pytorch_model.bin,
 * read by a restricted unpickler that runs no code (torch-pickle.ts); either may be a shard index.
 */
async function weightsFile(dir: string): Promise<string> {
  for (const name of WEIGHT_FILES) if (await exists(path.join(dir, name))) return path.join(dir, name);
  throw new Error(
    `${dir} has no model.safetensors, pytorch_model.bin, nor the index of a sharded one (<file>.index.json); it is not a Hugging Face checkpoint folder`,
  );
}

const readWeightsFile = (file: string) => (file.endsWith('.bin') ? readTorchCheckpoint(file) : readSafetensors(file));

async function readWeights(file: string): Promise<{ tensors: ShardedTensors['tensors']; fileOf?: ShardedTensors['fileOf'] }> {
  if (isShardIndex(file)) return readShards(await readCheckpointIndex(file), readWeightsFile);
  return { tensors: await readWeightsFile(file) };
}

/**
 * tokenizer.json: the repo's own when it has one (NLLB, M2M-100 exports), else built from Marian's
 * vocab.json (ids) and source.spm (scores, normalizer), as the Xenova opus-mt exports are.
 */
async function tokenizerJson(dir: string): Promise<Record<string, unknown>> {
  const own = path.join(dir, 'tokenizer.json');
  if (await exists(own)) return readJson(own);
  const vocabFile = path.join(dir, 'vocab.json');
  const spmFile = path.join(dir, 'source.spm');
  if (!(await exists(vocabFile)) || !(await exists(spmFile))) {
    throw new Error(`${dir} has neither tokenizer.json nor Marian's vocab.json + source.spm; download the repo's tokenizer files`);
  }
  const vocab = (await readJson(vocabFile)) as Record<string, number>;
  const spm = readSentencePiece(await readFile(spmFile), spmFile);
  const scores = new Map(spm.pieces.filter((p) => p.type === 'NORMAL').map((p) => [p.piece, p.score]));
  const entries: [string, number][] = Object.entries(vocab)
    .sort(([, a], [, b]) => a - b)
    .map(([piece]) => [piece, scores.get(piece) ?? 0]);
  const idOf = (token: string) => {
    const id = vocab[token];
    if (id === undefined) throw new Error(`${vocabFile} has no ${token}`);
    return id;
  };
  if (entries.at(-1)?.[0] !== '<pad>') throw new Error(`${vocabFile}: <pad> is not the last id, which Marian's tokenizer expects`);
  return marianTokenizerJson(
    { entries, eosId: idOf('</s>'), unkId: idOf('<unk>') },
    Buffer.from(spm.precompiledCharsmap).toString('base64'),
    spm.removeExtraWhitespaces,
  );
}

/** generation_config.json: the repo's own, else the generation fields of config.json (as transformers derives it). */
async function generationConfig(dir: string, config: Record<string, unknown>): Promise<Record<string, unknown>> {
  const own = path.join(dir, 'generation_config.json');
  if (await exists(own)) return readJson(own);
  const keys = [
    'bad_words_ids',
    'bos_token_id',
    'decoder_start_token_id',
    'eos_token_id',
    'forced_eos_token_id',
    'max_length',
    'num_beams',
    'pad_token_id',
  ];
  return Object.fromEntries(keys.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]));
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Replaces `target` by `staging`, or (converting in place, as `models pull` does) adds staging's files to it. */
async function moveIntoPlace(staging: string, target: string, inPlace: boolean): Promise<void> {
  if (!inPlace) {
    await rm(target, { recursive: true, force: true });
    await mkdir(path.dirname(target), { recursive: true });
    await rename(staging, target);
    return;
  }
  await rm(path.join(target, 'onnx'), { recursive: true, force: true });
  for (const entry of await readdir(staging)) {
    if (!KEPT_FILES.includes(entry)) await rename(path.join(staging, entry), path.join(target, entry));
  }
  await rm(staging, { recursive: true, force: true });
}

/** Converts the checkpoint in `dir` into `out` (replaced when it exists). */
export async function convertCheckpoint(dir: string, out: string): Promise<void> {
  const configFile = path.join(dir, 'config.json');
  const config = await readJson(configFile);
  const architecture = architectureFromConfig(config, configFile);
  const weightsPath = await weightsFile(dir);
  const tokenizer = await tokenizerJson(dir);

  const target = path.resolve(out);
  const staging = `${target}.converting-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(path.join(staging, 'onnx'), { recursive: true });
  try {
    const { tensors, fileOf } = await readWeights(weightsPath);
    const weights = fromStateDict(architecture, tensors, weightsPath, fileOf);
    const external = await writeModelGraphs(path.join(staging, 'onnx'), weights, 'newsbridge models convert');
    await writeJson(path.join(staging, 'config.json'), withExternalData(config, external));
    await writeJson(path.join(staging, 'generation_config.json'), await generationConfig(dir, config));
    await writeJson(path.join(staging, 'tokenizer.json'), tokenizer);
    const present = new Set(await readdir(dir));
    for (const file of KEPT_FILES.filter((f) => present.has(f))) await copyFile(path.join(dir, file), path.join(staging, file));
    await moveIntoPlace(staging, target, path.resolve(dir) === target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
