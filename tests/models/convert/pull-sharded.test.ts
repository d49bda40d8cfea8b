/**
 * `models pull` of a repo with no ONNX export whose checkpoint is sharded: the index comes first, then every
 * shard it names (resumed like any file when a connection drops), then the conversion in place; an index
 * naming a shard outside the model folder, or one the repo does not publish, is refused before it is requested.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../src/models/convert/convert.js';
import { pullModel } from '../../../src/models/pull.js';
import { verifyError, verifyModel } from '../../../src/models/verify.js';
import { makeModel } from '../../../tools/make-model.js';
import { TEST_MODELS, testModelOptions } from '../../../tools/test-models.js';
import { type FakeHub, startHub } from '../../helpers/hub.js';

const AR = TEST_MODELS[0];
const ID = 'Helsinki-NLP/opus-mt-sharded';
const BIN_ID = 'Helsinki-NLP/opus-mt-sharded-bin';
const TRAVERSAL_ID = 'Helsinki-NLP/opus-mt-traversal';
const UNPUBLISHED_ID = 'Helsinki-NLP/opus-mt-unpublished-shard';
const SHARDS = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'];
let work: string;
let hub: FakeHub;

const resolve = (id: string, file: string) => `/${id}/resolve/main/${file}`;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'nb-pull-sharded-'));
  const single = path.join(work, 'single');
  await makeModel({ ...testModelOptions(AR), out: single, checkpoint: true });
  await convertCheckpoint(single, path.join(work, 'single-converted'));
  const files = new Map<string, Buffer>();
  const serve = async (id: string, dir: string, edit?: (file: string, bytes: Buffer) => Buffer | null) => {
    for (const file of await readdir(dir)) {
      const bytes = await readFile(path.join(dir, file));
      const served = edit ? edit(file, bytes) : bytes;
      if (served) files.set(resolve(id, file), served);
    }
  };
  const sharded = path.join(work, 'sharded');
  await makeModel({ ...testModelOptions(AR), out: sharded, checkpoint: true, shards: 3 });
  await serve(ID, sharded);
  const shardedBin = path.join(work, 'sharded-bin');
  await makeModel({ ...testModelOptions(AR), out: shardedBin, checkpoint: true, shards: 3, weights: 'bin' });
  await serve(BIN_ID, shardedBin);
  const traversal = (file: string, bytes: Buffer) =>
    file === 'model.safetensors.index.json'
      ? Buffer.from(bytes.toString('utf8').replaceAll(`"${SHARDS[1]}"`, '"../../escape.safetensors"'))
      : bytes;
  await serve(TRAVERSAL_ID, sharded, traversal);
  await serve(UNPUBLISHED_ID, sharded, (file, bytes) => (file === SHARDS[2] ? null : bytes));
  hub = await startHub(files);
});

afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

const pull = (id: string) =>
  pullModel({ id, revision: 'main', modelsDir: path.join(work, 'models'), dtype: 'q8', mirror: hub.url, retryDelayMs: 1 });

const graph = (dir: string) => readFile(path.join(dir, 'onnx/decoder_model_merged_quantized.onnx'));

describe('models pull of a sharded checkpoint without onnx/', () => {
  it('downloads the index and every shard (resuming one cut mid-file), converts, and records them for verify', async () => {
    hub.cutNextResponse(resolve(ID, SHARDS[1] as string), 50_000);
    const manifest = await pull(ID);
    const requests = hub.requests.filter((r) => r.path.startsWith(`/${ID}/`));
    const paths = requests.map((r) => r.path);
    for (const file of ['model.safetensors.index.json', ...SHARDS]) expect(paths).toContain(resolve(ID, file));
    expect(paths.indexOf(resolve(ID, 'model.safetensors.index.json'))).toBeLessThan(paths.indexOf(resolve(ID, SHARDS[0] as string)));
    // The cut shard was resumed from where it stopped, not started over.
    expect(requests.filter((r) => r.path === resolve(ID, SHARDS[1] as string)).map((r) => r.range)).toEqual([undefined, 'bytes=50000-']);
    expect(Object.keys(manifest.files)).toEqual(
      expect.arrayContaining(['model.safetensors.index.json', ...SHARDS, 'onnx/decoder_model_merged_quantized.onnx']),
    );
    const dir = path.join(work, 'models', ID);
    expect(verifyError(await verifyModel(dir), { name: ID, fix: 'pull again' })).toBeNull();
    expect((await graph(dir)).equals(await graph(path.join(work, 'single-converted')))).toBe(true);
  });

  it('pulls pytorch_model.bin shards when the repo has only those, into the same graphs', async () => {
    const manifest = await pull(BIN_ID);
    expect(Object.keys(manifest.files)).toEqual(
      expect.arrayContaining(['pytorch_model.bin.index.json', 'pytorch_model-00002-of-00003.bin']),
    );
    expect((await graph(path.join(work, 'models', BIN_ID))).equals(await graph(path.join(work, 'single-converted')))).toBe(true);
  });

  it('refuses an index naming a shard outside the model folder, requesting no shard', async () => {
    await expect(pull(TRAVERSAL_ID)).rejects.toThrow(
      /weight_map puts .* in "\.\.\/\.\.\/escape\.safetensors", which is not a \.safetensors file name/,
    );
    const requested = hub.requests.map((r) => r.path).filter((p) => p.startsWith(`/${TRAVERSAL_ID}/`));
    expect(requested.filter((p) => p.endsWith('.safetensors'))).toEqual([]);
  });

  it('refuses an index naming a shard the repo does not publish, before downloading shards', async () => {
    await expect(pull(UNPUBLISHED_ID)).rejects.toThrow(
      /model\.safetensors\.index\.json names model-00003-of-00003\.safetensors, which the repo does not publish/,
    );
    expect(hub.requests.map((r) => r.path)).not.toContain(resolve(UNPUBLISHED_ID, SHARDS[0] as string));
  });
});
