/**
 * `models pull` of a repo with no ONNX export (most Helsinki-NLP models): the checkpoint comes from a
 * hub on 127.0.0.1 and is converted in place; the manifest records the converted files, so
 * `models verify` checks them; a repo with only pytorch_model.bin is refused before any download.
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
const PICKLE_ID = 'Helsinki-NLP/opus-mt-pickle-only';
let work: string;
let hub: FakeHub;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'nb-pull-convert-'));
  const checkpoint = path.join(work, 'checkpoint');
  await makeModel({ ...testModelOptions(AR), out: checkpoint, checkpoint: true });
  const files = new Map<string, Buffer>();
  for (const file of await readdir(checkpoint)) {
    const bytes = await readFile(path.join(checkpoint, file));
    files.set(`/${ID}/resolve/main/${file}`, bytes);
    const pickleName = file === 'model.safetensors' ? 'pytorch_model.bin' : file;
    files.set(`/${PICKLE_ID}/resolve/main/${pickleName}`, bytes);
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
    expect(hub.requests.map((r) => r.path).filter((p) => p.startsWith(`/${ID}/`))).toContain(`/${ID}/resolve/main/model.safetensors`);
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

  it('refuses a repo that has only pytorch_model.bin, naming it and the fix, before downloading it', async () => {
    hub.requests.length = 0;
    await expect(
      pullModel({ id: PICKLE_ID, revision: 'main', modelsDir: path.join(work, 'models'), dtype: 'q8', mirror: hub.url, retryDelayMs: 1 }),
    ).rejects.toThrow(/pytorch_model\.bin.*safetensors/s);
    expect(hub.requests.map((r) => r.path)).not.toContain(`/${PICKLE_ID}/resolve/main/pytorch_model.bin`);
  });
});
