/**
 * `models pull` of a repo with no ONNX export (most Helsinki-NLP models): the checkpoint comes from a
 * hub on 127.0.0.1 and is converted in place; the manifest records the converted files, so
 * `models verify` checks them; a repo with only pytorch_model.bin is pulled and converted from it, one with both
 * from model.safetensors (the .bin is not downloaded).
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pullModel } from '../../../src/models/pull.js';
import { verifyError, verifyModel } from '../../../src/models/verify.js';
import { makeModel } from '../../../tools/make-model.js';
import { TEST_MODELS, testModelOptions } from '../../../tools/test-models.js';
import { type FakeHub, startHub } from '../../helpers/hub.js';

const modelsDir = inject('modelsDir');
const AR = TEST_MODELS[0];
const ID = 'Helsinki-NLP/opus-mt-tc-big-ar-en';
const BIN_ID = 'Helsinki-NLP/opus-mt-bin-only';
let work: string;
let hub: FakeHub;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'nb-pull-convert-'));
  const checkpoint = path.join(work, 'checkpoint');
  const binCheckpoint = path.join(work, 'bin-checkpoint');
  await makeModel({ ...testModelOptions(AR), out: checkpoint, checkpoint: true });
  await makeModel({ ...testModelOptions(AR), out: binCheckpoint, checkpoint: true, weights: 'bin' });
  const files = new Map<string, Buffer>();
  for (const file of await readdir(checkpoint)) files.set(`/${ID}/resolve/main/${file}`, await readFile(path.join(checkpoint, file)));
  for (const file of await readdir(binCheckpoint)) {
    const bytes = await readFile(path.join(binCheckpoint, file));
    files.set(`/${BIN_ID}/resolve/main/${file}`, bytes);
    if (file === 'pytorch_model.bin') files.set(`/${ID}/resolve/main/${file}`, bytes);
  }
  hub = await startHub(files);
});

afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

describe('models pull of a repo without onnx/', () => {
  it('downloads the checkpoint, converts it in place, and records the ONNX files for verify', async () => {
    const manifest = await pullModel({
      id: ID,
      revision: 'main',
      modelsDir: path.join(work, 'models'),
      dtype: 'q8',
      mirror: hub.url,
      retryDelayMs: 1,
    });
    const dir = path.join(work, 'models', ID);
    const requested = hub.requests.map((r) => r.path).filter((p) => p.startsWith(`/${ID}/`));
    expect(requested).toContain(`/${ID}/resolve/main/model.safetensors`);
    // The repo publishes both weights files: safetensors wins, the pickle is not downloaded.
    expect(requested).not.toContain(`/${ID}/resolve/main/pytorch_model.bin`);
    expect((await readdir(path.join(dir, 'onnx'))).sort()).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged_quantized.onnx',
      'encoder_model.onnx',
      'encoder_model_quantized.onnx',
    ]);
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['onnx/decoder_model_merged_quantized.onnx', 'tokenizer.json']));
    const report = await verifyModel(dir);
    expect(verifyError(report, { name: ID, fix: 'pull again' })).toBeNull();
    const initializers = async (root: string) =>
      onnxProto.onnx.ModelProto.decode(await readFile(path.join(root, 'onnx/decoder_model_merged_quantized.onnx'))).graph?.initializer ??
      [];
    const direct = await initializers(path.join(modelsDir, AR.id));
    const pulled = await initializers(dir);
    expect(pulled.map((t) => t.name)).toEqual(direct.map((t) => t.name));
  });

  it('pulls a repo that has only pytorch_model.bin and converts it into the graphs of the safetensors route', async () => {
    const manifest = await pullModel({
      id: BIN_ID,
      revision: 'main',
      modelsDir: path.join(work, 'models'),
      dtype: 'q8',
      mirror: hub.url,
      retryDelayMs: 1,
    });
    expect(hub.requests.map((r) => r.path)).toContain(`/${BIN_ID}/resolve/main/pytorch_model.bin`);
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['pytorch_model.bin', 'onnx/decoder_model_merged_quantized.onnx']));
    expect(verifyError(await verifyModel(path.join(work, 'models', BIN_ID)), { name: BIN_ID, fix: 'pull again' })).toBeNull();
    const graph = (root: string) => readFile(path.join(root, 'onnx/decoder_model_merged_quantized.onnx'));
    expect((await graph(path.join(work, 'models', BIN_ID))).equals(await graph(path.join(work, 'models', ID)))).toBe(true);
  });
});
