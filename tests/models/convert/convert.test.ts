/**
 * `models convert` on generated checkpoints in the hub's PyTorch layout: the converted model
 * translates token for token as the same weights generated directly as ONNX (two routes), its
 * tokenizer.json (built from source.spm + vocab.json) segments NTREX as SentencePiece itself does
 * (@agnai/sentencepiece-js, the C++ library in wasm), and checkpoints it cannot read are refused
 * with the fix.
 */
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error: the package ships no type declarations; the test uses load() and encodePieces().
import { SentencePieceProcessor } from '@agnai/sentencepiece-js';
import { AutoModelForSeq2SeqLM, AutoTokenizer, env } from '@huggingface/transformers';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { convertCheckpoint } from '../../../src/models/convert/convert.js';
import { makeModel } from '../../../tools/make-model.js';
import { TEST_MODELS, TINY_M2M100_MODEL, testModelOptions } from '../../../tools/test-models.js';

const modelsDir = inject('modelsDir');
const AR = TEST_MODELS[0];
const ntrex = path.resolve(import.meta.dirname, '../../../../shared/data/mt/ntrex128');
let work: string;

async function ntrexLines(file: string): Promise<string[]> {
  return (await readFile(path.join(ntrex, file), 'utf8')).split('\n').filter((line) => line.trim() !== '');
}

beforeAll(async () => {
  env.allowRemoteModels = false;
  work = await mkdtemp(path.join(tmpdir(), 'nb-convert-'));
  await makeModel({ ...testModelOptions(AR), out: path.join(work, 'checkpoint', AR.id), checkpoint: true });
  await convertCheckpoint(path.join(work, 'checkpoint', AR.id), path.join(work, 'converted', AR.id));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Greedy ids for each sentence, one at a time, from the model under `root`. */
async function greedy(root: string, id: string, dtype: 'fp32' | 'q8', sentences: string[]): Promise<number[][]> {
  env.localModelPath = `${root}/`;
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model = await AutoModelForSeq2SeqLM.from_pretrained(id, { dtype });
  const out: number[][] = [];
  for (const sentence of sentences) {
    const generated = (await model.generate({ ...tokenizer(sentence), max_new_tokens: 16 })) as { tolist(): bigint[][] };
    out.push((generated.tolist()[0] ?? []).map(Number));
  }
  await model.dispose();
  return out;
}

describe('models convert: Marian checkpoint → ONNX', () => {
  it('writes the layout newsbridge loads from config.json, model.safetensors, source.spm, target.spm and vocab.json', async () => {
    const checkpoint = (await readdir(path.join(work, 'checkpoint', AR.id))).sort();
    expect(checkpoint).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'source.spm', 'target.spm', 'vocab.json']));
    expect(checkpoint).not.toContain('tokenizer.json');
    expect(checkpoint).not.toContain('onnx');
    const converted = await readdir(path.join(work, 'converted', AR.id));
    expect(converted).toEqual(expect.arrayContaining(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']));
    expect((await readdir(path.join(work, 'converted', AR.id, 'onnx'))).sort()).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged_quantized.onnx',
      'encoder_model.onnx',
      'encoder_model_quantized.onnx',
    ]);
  });

  it.each(['encoder_model', 'decoder_model_merged_quantized'])(
    '%s has the initializers of the direct route, byte for byte',
    async (file) => {
      const load = async (root: string) =>
        onnxProto.onnx.ModelProto.decode(await readFile(path.join(root, AR.id, 'onnx', `${file}.onnx`))).graph?.initializer ?? [];
      const direct = await load(modelsDir);
      const converted = await load(path.join(work, 'converted'));
      expect(converted.map((t) => t.name)).toEqual(direct.map((t) => t.name));
      converted.forEach((tensor, i) => {
        expect(Buffer.from(tensor.rawData ?? []).equals(Buffer.from(direct[i]?.rawData ?? [])), tensor.name ?? '').toBe(true);
      });
    },
  );

  it.each(['fp32', 'q8'] as const)('(%s) translates NTREX Arabic token for token as the model generated directly', async (dtype) => {
    // Opening words: on whole sentences the random tiny model settles into one repeated piece whatever the source.
    const sentences = (await ntrexLines('newstest2019-ref.arb.txt')).slice(0, 24).map((line) => line.split(' ').slice(0, 3).join(' '));
    const direct = await greedy(modelsDir, AR.id, dtype, sentences);
    const converted = await greedy(path.join(work, 'converted'), AR.id, dtype, sentences);
    expect(converted).toEqual(direct);
    expect(new Set(direct.map((ids) => ids.join())).size).toBeGreaterThan(1);
  });
});

describe('models convert: tokenizer.json from source.spm', () => {
  /**
   * Lines where the two differ only between segmentations of equal total score (a Viterbi tie,
   * frequent in the generated vocabulary's equal-scored fillers) count as ties; the rest as
   * differences. transformers.js applies NFKC for the nmt_nfkc table, which reorders stacked
   * Arabic diacritics (shadda + fatha) where the table does not: a few Arabic lines differ so.
   */
  it.each([
    ['newstest2019-src.eng.txt', 0],
    ['newstest2019-ref.vie.txt', 1],
    ['newstest2019-ref.arb.txt', 10],
  ])('%s: every line as SentencePiece segments it, but for ties and at most %i normalization differences', async (file, allowed) => {
    const folder = path.join(work, 'checkpoint', AR.id);
    const sentencePiece = new SentencePieceProcessor();
    await sentencePiece.load(path.join(folder, 'source.spm'));
    env.localModelPath = `${path.join(work, 'converted')}/`;
    const tokenizer = await AutoTokenizer.from_pretrained(AR.id);
    const json = JSON.parse(await readFile(path.join(work, 'converted', AR.id, 'tokenizer.json'), 'utf8')) as {
      model: { vocab: [string, number][] };
    };
    const scores = new Map(json.model.vocab);
    // A piece outside the vocabulary is `<unk>` for both, with one score.
    const total = (pieces: string[]) => pieces.reduce((sum, piece) => sum + (scores.get(piece) ?? -100), 0);
    const lines = await ntrexLines(file);
    let same = 0;
    let ties = 0;
    const differing: string[] = [];
    for (const line of lines) {
      const expected = sentencePiece.encodePieces(line) as string[];
      const ours = tokenizer.tokenize(line);
      if (ours.join(' ') === expected.join(' ')) same++;
      else if (ours.join('') === expected.join('') && Math.abs(total(ours) - total(expected)) < 1e-9) ties++;
      else differing.push(line);
    }
    expect(same + ties + differing.length).toBe(lines.length);
    expect(differing.length, differing.slice(0, 3).join('\n')).toBeLessThanOrEqual(allowed);
    expect(same).toBeGreaterThan(0.98 * lines.length);
  });
});

describe('models convert: M2M-100 checkpoint', () => {
  it('converts a tiny-m2m100 checkpoint into graphs with the direct route initializers', async () => {
    const checkpoint = path.join(work, 'checkpoint', TINY_M2M100_MODEL.id);
    await makeModel({ ...testModelOptions(TINY_M2M100_MODEL), out: checkpoint, checkpoint: true });
    const converted = path.join(work, 'converted', TINY_M2M100_MODEL.id);
    await convertCheckpoint(checkpoint, converted);
    for (const file of ['encoder_model.onnx', 'decoder_model_merged.onnx']) {
      const load = async (root: string) =>
        onnxProto.onnx.ModelProto.decode(await readFile(path.join(root, 'onnx', file))).graph?.initializer ?? [];
      const direct = await load(path.join(modelsDir, TINY_M2M100_MODEL.id));
      const ours = await load(converted);
      expect(ours.map((t) => t.name)).toEqual(direct.map((t) => t.name));
      ours.forEach((t, i) => {
        expect(Buffer.from(t.rawData ?? []).equals(Buffer.from(direct[i]?.rawData ?? [])), t.name ?? '').toBe(true);
      });
    }
  });
});

describe('models convert: checkpoints it refuses', () => {
  it('names pytorch_model.bin when it is not a torch zip archive (here safetensors bytes under that name)', async () => {
    const dir = path.join(work, 'pickle-only');
    await makeModel({ ...testModelOptions(AR), out: dir, checkpoint: true });
    await copyFile(path.join(dir, 'model.safetensors'), path.join(dir, 'pytorch_model.bin'));
    await rm(path.join(dir, 'model.safetensors'));
    await expect(convertCheckpoint(dir, path.join(work, 'pickle-out'))).rejects.toThrow(/pytorch_model\.bin is not a readable zip archive/);
  });

  it('names config.json when the checkpoint and its config disagree on a shape', async () => {
    const dir = path.join(work, 'mismatch');
    await makeModel({ ...testModelOptions(AR), out: dir, checkpoint: true });
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, encoder_ffn_dim: 48 }));
    await expect(convertCheckpoint(dir, path.join(work, 'mismatch-out'))).rejects.toThrow(
      /fc1\.weight has shape \[64,32\], config\.json implies \[48,32\]/,
    );
  });
});
