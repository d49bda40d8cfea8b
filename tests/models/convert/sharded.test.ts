/**
 * `models convert` of sharded checkpoints (model.safetensors.index.json or pytorch_model.bin.index.json and
 * their shards, as save_pretrained(max_shard_size=…) writes them, from `model:make --checkpoint --shards 3`):
 * the graphs are byte for byte those of the same checkpoint in one file, translations token for token those
 * of the model generated directly as ONNX, and an index and shards that disagree are refused with the fix.
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoModelForSeq2SeqLM, AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { convertCheckpoint } from '../../../src/models/convert/convert.js';
import { makeModel } from '../../../tools/make-model.js';
import { TEST_MODELS, TINY_M2M100_MODEL, testModelOptions } from '../../../tools/test-models.js';

const modelsDir = inject('modelsDir');
const AR = TEST_MODELS[0];
const GRAPHS = ['encoder_model.onnx', 'encoder_model_quantized.onnx', 'decoder_model_merged.onnx', 'decoder_model_merged_quantized.onnx'];
const INDEX = 'model.safetensors.index.json';
const SHARDS = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'];
let work: string;

const checkpointOf = (name: string) => path.join(work, 'checkpoint', name);
const convertedOf = (name: string) => path.join(work, 'converted', name, AR.id);

beforeAll(async () => {
  env.allowRemoteModels = false;
  work = await mkdtemp(path.join(tmpdir(), 'nb-sharded-'));
  const routes = { single: {}, sharded: { shards: 3 }, 'sharded-bin': { shards: 3, weights: 'bin' as const } };
  for (const [name, extra] of Object.entries(routes)) {
    await makeModel({ ...testModelOptions(AR), out: checkpointOf(name), checkpoint: true, ...extra });
    await convertCheckpoint(checkpointOf(name), convertedOf(name));
  }
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Index {
  metadata: { total_size: number };
  weight_map: Record<string, string>;
}

const readIndex = async (dir: string, file = INDEX) => JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Index;

/** A copy of the sharded checkpoint to damage. */
async function damaged(name: string, change: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(work, 'damaged', name);
  await cp(checkpointOf('sharded'), dir, { recursive: true });
  await change(dir);
  return dir;
}

async function editIndex(dir: string, edit: (index: Index) => void): Promise<void> {
  const index = await readIndex(dir);
  edit(index);
  await writeFile(path.join(dir, INDEX), JSON.stringify(index));
}

const convertDamaged = (dir: string) => convertCheckpoint(dir, `${dir}-out`);

describe('model:make --checkpoint --shards 3', () => {
  it('writes three shards and an index in the hub layout, each tensor in the shard its weight_map names', async () => {
    const files = await readdir(checkpointOf('sharded'));
    expect(files).toEqual(expect.arrayContaining([INDEX, ...SHARDS]));
    expect(files).not.toContain('model.safetensors');
    const index = await readIndex(checkpointOf('sharded'));
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(SHARDS));
    expect(Object.keys(index.weight_map)).toEqual(Object.keys(index.weight_map).sort());
    // total_size: the tensors' bytes, headers not counted.
    const single = (await readFile(path.join(checkpointOf('single'), 'model.safetensors'))).readBigUInt64LE(0);
    const singleBytes = (await readFile(path.join(checkpointOf('single'), 'model.safetensors'))).length - 8 - Number(single);
    expect(index.metadata.total_size).toBe(singleBytes);
    const bin = await readdir(checkpointOf('sharded-bin'));
    expect(bin).toEqual(expect.arrayContaining(['pytorch_model.bin.index.json', 'pytorch_model-00003-of-00003.bin']));
  });
});

describe('models convert: a sharded checkpoint', () => {
  it.each(['sharded', 'sharded-bin'])('(%s) gives the ONNX files of the one-file checkpoint, byte for byte', async (name) => {
    for (const graph of GRAPHS) {
      const ours = await readFile(path.join(convertedOf(name), 'onnx', graph));
      expect(ours.equals(await readFile(path.join(convertedOf('single'), 'onnx', graph))), graph).toBe(true);
    }
  });

  it.each(['fp32', 'q8'] as const)('(%s) translates token for token as the model generated directly as ONNX', async (dtype) => {
    const sentences = ['قال الرئيس', 'في العاصمة', 'الأمم المتحدة', 'يوم الخميس', 'وزير الخارجية', 'أعلنت الحكومة'];
    const greedy = async (root: string) => {
      env.localModelPath = `${root}/`;
      const tokenizer = await AutoTokenizer.from_pretrained(AR.id);
      const model = await AutoModelForSeq2SeqLM.from_pretrained(AR.id, { dtype });
      const out: number[][] = [];
      for (const sentence of sentences) {
        const generated = (await model.generate({ ...tokenizer(sentence), max_new_tokens: 12 })) as { tolist(): bigint[][] };
        out.push((generated.tolist()[0] ?? []).map(Number));
      }
      await model.dispose();
      return out;
    };
    const direct = await greedy(modelsDir);
    expect(await greedy(path.join(work, 'converted', 'sharded'))).toEqual(direct);
    expect(new Set(direct.map((ids) => ids.join())).size).toBeGreaterThan(1);
  });

  it('(tiny-m2m100, 4 shards) gives the ONNX files of the one-file checkpoint, byte for byte', async () => {
    const converted: string[] = [];
    for (const shards of [1, 4]) {
      const dir = path.join(work, 'm2m100', String(shards));
      await makeModel({ ...testModelOptions(TINY_M2M100_MODEL), out: dir, checkpoint: true, shards });
      await convertCheckpoint(dir, `${dir}-out`);
      converted.push(`${dir}-out`);
    }
    expect(await readdir(path.join(work, 'm2m100', '4'))).toContain('model-00004-of-00004.safetensors');
    for (const graph of GRAPHS) {
      const [single, sharded] = await Promise.all(converted.map((dir) => readFile(path.join(dir, 'onnx', graph))));
      expect(sharded?.equals(single as Buffer), graph).toBe(true);
    }
  });

  it('prefers the safetensors shards to the pytorch_model.bin ones, as transformers does (a corrupt .bin shard is not read)', async () => {
    const dir = await damaged('both', async (d) => {
      await cp(checkpointOf('sharded-bin'), d, { recursive: true, force: false });
      await writeFile(path.join(d, 'pytorch_model-00001-of-00003.bin'), 'not a zip');
    });
    await convertDamaged(dir);
    const graph = 'decoder_model_merged.onnx';
    expect(
      (await readFile(path.join(`${dir}-out`, 'onnx', graph))).equals(await readFile(path.join(convertedOf('single'), 'onnx', graph))),
    ).toBe(true);
  });
});

describe('models convert: sharded checkpoints it refuses', () => {
  it('a missing shard, naming it and the way to get it', async () => {
    const dir = await damaged('missing', (d) => rm(path.join(d, SHARDS[1] as string)));
    await expect(convertDamaged(dir)).rejects.toThrow(
      /lacks model-00002-of-00003\.safetensors \(1 of the 3 shards model\.safetensors\.index\.json names\); download them \(`newsbridge models pull` resumes\)/,
    );
  });

  it.each(['../model-00001-of-00003.safetensors', 'sub/model-00001-of-00003.safetensors', '/etc/model.safetensors', '..', 'model.bin'])(
    'a shard named %j (outside the folder, or not a .safetensors file), before reading any shard',
    async (shard) => {
      const dir = await damaged(`name-${shard.replace(/\W/g, '_')}`, (d) =>
        editIndex(d, (index) => {
          index.weight_map['model.shared.weight'] = shard;
        }),
      );
      await expect(convertDamaged(dir)).rejects.toThrow(
        new RegExp(
          `weight_map puts model\\.shared\\.weight in "${shard.replace(/[./]/g, '\\$&')}", which is not a \\.safetensors file name`,
        ),
      );
    },
  );

  it('a tensor the index puts in a shard that lacks it', async () => {
    const dir = await damaged('lacking', (d) =>
      editIndex(d, (index) => {
        index.weight_map['model.encoder.layers.9.fc1.weight'] = SHARDS[2] as string;
      }),
    );
    await expect(convertDamaged(dir)).rejects.toThrow(
      /model-00003-of-00003\.safetensors has no model\.encoder\.layers\.9\.fc1\.weight, which model\.safetensors\.index\.json puts there; the shards and model\.safetensors\.index\.json are not of one checkpoint/,
    );
  });

  it('a tensor a shard holds that the weight_map does not list, or puts in another shard', async () => {
    const index = await readIndex(checkpointOf('sharded'));
    // From the second shard: the first holds only the shared embedding, and a shard the index no longer names is not read.
    const [name, shard] = Object.entries(index.weight_map).find(([, s]) => s === SHARDS[1]) ?? [];
    const unlisted = await damaged('unlisted', (d) =>
      editIndex(d, (i) => {
        delete i.weight_map[name as string];
      }),
    );
    await expect(convertDamaged(unlisted)).rejects.toThrow(`${shard} holds ${name}, which model.safetensors.index.json does not list`);
    const moved = await damaged('moved', (d) =>
      editIndex(d, (i) => {
        i.weight_map[name as string] = SHARDS[2] as string;
      }),
    );
    await expect(convertDamaged(moved)).rejects.toThrow(`${shard} holds ${name}, which model.safetensors.index.json puts in ${SHARDS[2]}`);
  });

  it('an index that is not JSON, or has no weight_map', async () => {
    const broken = await damaged('not-json', (d) => writeFile(path.join(d, INDEX), '<html>'));
    await expect(convertDamaged(broken)).rejects.toThrow(/model\.safetensors\.index\.json is not valid JSON .*download it again/);
    const empty = await damaged('no-map', (d) => writeFile(path.join(d, INDEX), '{"metadata": {"total_size": 1}}'));
    await expect(convertDamaged(empty)).rejects.toThrow(/model\.safetensors\.index\.json has no weight_map/);
  });

  it('a shape config.json does not imply, naming the shard that holds the tensor', async () => {
    const dir = await damaged('shape', async (d) => {
      const config = JSON.parse(await readFile(path.join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(path.join(d, 'config.json'), JSON.stringify({ ...config, encoder_ffn_dim: 48 }));
    });
    const shard = (await readIndex(dir)).weight_map['model.encoder.layers.0.fc1.weight'];
    await expect(convertDamaged(dir)).rejects.toThrow(
      `${shard}: model.encoder.layers.0.fc1.weight has shape [64,32], config.json implies [48,32]`,
    );
  });
});
