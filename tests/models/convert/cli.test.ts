/** `newsbridge models convert` as a user runs it: a checkpoint folder, a hub id in the models folder, and a bad source. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../../tools/make-model.js';
import { runNewsbridge } from '../../../tools/newsbridge-process.js';
import { TEST_MODELS, testModelOptions } from '../../../tools/test-models.js';

const AR = TEST_MODELS[0];
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'nb-convert-cli-'));
  await makeModel({ ...testModelOptions(AR), out: path.join(work, 'checkpoint'), checkpoint: true });
  await makeModel({ ...testModelOptions(AR), out: path.join(work, 'models', 'Helsinki-NLP', 'opus-mt-tc-big-ar-en'), checkpoint: true });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const onnxFiles = [
  'decoder_model_merged.onnx',
  'decoder_model_merged_quantized.onnx',
  'encoder_model.onnx',
  'encoder_model_quantized.onnx',
];

describe('newsbridge models convert', () => {
  it('converts a checkpoint folder into --out', async () => {
    const out = path.join(work, 'converted');
    const run = await runNewsbridge(['models', 'convert', path.join(work, 'checkpoint'), '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`converted to ONNX (fp32 and q8) in ${out}`);
    expect((await readdir(path.join(out, 'onnx'))).sort()).toEqual(onnxFiles);
    expect(await readdir(out)).toContain('tokenizer.json');
  });

  it('converts a hub id in place in the models folder, keeping the checkpoint', async () => {
    const dir = path.join(work, 'models', 'Helsinki-NLP', 'opus-mt-tc-big-ar-en');
    const run = await runNewsbridge(['models', 'convert', 'Helsinki-NLP/opus-mt-tc-big-ar-en', '--models-dir', path.join(work, 'models')]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(path.join(dir, 'onnx'))).sort()).toEqual(onnxFiles);
    expect(await readdir(dir)).toEqual(
      expect.arrayContaining(['model.safetensors', 'source.spm', 'tokenizer.json', 'generation_config.json']),
    );
  });

  it('says what is missing for a hub id whose checkpoint is not there', async () => {
    const run = await runNewsbridge(['models', 'convert', 'Helsinki-NLP/opus-mt-tc-big-vi-en', '--models-dir', path.join(work, 'models')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /opus-mt-tc-big-vi-en.*put config\.json, model\.safetensors \(or pytorch_model\.bin, or a sharded checkpoint's index and shards\) and the tokenizer files there/,
    );
  });
});
