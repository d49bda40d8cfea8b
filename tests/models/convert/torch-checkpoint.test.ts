/**
 * pytorch_model.bin (torch.save's zip format) in `models convert`: the same weights as .bin and as
 * model.safetensors give byte-identical ONNX graphs; the reader handles fp16/bf16 storages, shared
 * storages, offsets and non-contiguous strides; pickles that name anything but a state dict's globals,
 * truncated archives and the legacy format are refused with the file and the reason; a folder with
 * both weights files is converted from model.safetensors.
 */
import { access, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../src/models/convert/convert.js';
import { readSafetensors } from '../../../src/models/convert/safetensors.js';
import { readTorchCheckpoint } from '../../../src/models/convert/torch-checkpoint.js';
import { makeModel } from '../../../tools/make-model.js';
import {
  type PickledTensor,
  PickleWriter,
  contiguousStride,
  pickleTensor,
  stateDictPickle,
  torchArchive,
} from '../../../tools/model/torch-checkpoint.js';
import { TEST_MODELS, TINY_M2M100_MODEL, testModelOptions } from '../../../tools/test-models.js';

const AR = TEST_MODELS[0];
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'nb-torch-bin-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Writes a pytorch_model.bin from a pickle and its storages; returns its path. */
async function binFile(name: string, pickle: Uint8Array, storages = new Map<string, Uint8Array>()): Promise<string> {
  const file = path.join(work, `${name}.bin`);
  await writeFile(file, torchArchive(pickle, storages));
  return file;
}

async function onnxFiles(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(path.join(dir, 'onnx'))).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(path.join(dir, 'onnx', n))] as [string, Buffer])));
}

describe('models convert: pytorch_model.bin', () => {
  it.each([
    ['Marian', AR],
    ['M2M-100', TINY_M2M100_MODEL],
  ] as const)('%s: the .bin checkpoint gives the ONNX graphs of the safetensors one, byte for byte', async (_, model) => {
    const safetensors = path.join(work, model.id, 'safetensors');
    const bin = path.join(work, model.id, 'bin');
    await makeModel({ ...testModelOptions(model), out: safetensors, checkpoint: true });
    await makeModel({ ...testModelOptions(model), out: bin, checkpoint: true, weights: 'bin' });
    expect(await readdir(bin)).toContain('pytorch_model.bin');
    expect(await readdir(bin)).not.toContain('model.safetensors');

    const fromBin = await readTorchCheckpoint(path.join(bin, 'pytorch_model.bin'));
    const fromSafetensors = await readSafetensors(path.join(safetensors, 'model.safetensors'));
    expect([...fromBin.keys()]).toEqual([...fromSafetensors.keys()]);
    for (const [name, tensor] of fromSafetensors) expect(fromBin.get(name), name).toEqual(tensor);

    await convertCheckpoint(safetensors, path.join(work, model.id, 'from-safetensors'));
    await convertCheckpoint(bin, path.join(work, model.id, 'from-bin'));
    const expected = await onnxFiles(path.join(work, model.id, 'from-safetensors'));
    const ours = await onnxFiles(path.join(work, model.id, 'from-bin'));
    expect([...ours.keys()]).toEqual([...expected.keys()]);
    expect(expected.size).toBe(4);
    for (const [name, bytes] of expected) expect(ours.get(name)?.equals(bytes), name).toBe(true);
  });

  it('converts from model.safetensors when the folder has both (a corrupt pytorch_model.bin is not read)', async () => {
    const dir = path.join(work, 'both');
    await makeModel({ ...testModelOptions(AR), out: dir, checkpoint: true });
    await writeFile(path.join(dir, 'pytorch_model.bin'), 'not a checkpoint');
    await convertCheckpoint(dir, path.join(work, 'both-out'));
    expect(await readdir(path.join(work, 'both-out', 'onnx'))).toContain('encoder_model.onnx');
  });
});

describe('the pytorch_model.bin reader', () => {
  it('reads fp16 and bf16 storages as float32, shared storages at an offset, and a transposed (non-contiguous) view', async () => {
    const floats = new Float32Array([1, 2, 3, 4, 5, 6, 7]);
    // 1.5, -2 and 65504 (the largest fp16) as fp16; 1.5 and -2 as bf16 (the top half of the float32).
    const half = new Uint16Array([0x3e00, 0xc000, 0x7bff]);
    const bf16 = new Uint16Array([0x3fc0, 0xc000]);
    const view = (storageType: string, key: string, numel: number, offset: number, shape: number[], stride = contiguousStride(shape)) =>
      ({ storageType, key, numel, offset, shape, stride }) satisfies PickledTensor;
    const pickle = stateDictPickle([
      ['whole', view('FloatStorage', '0', 7, 0, [7])],
      ['tail', view('FloatStorage', '0', 7, 1, [2, 3])],
      ['transposed', view('FloatStorage', '0', 7, 1, [3, 2], [1, 3])],
      ['half', view('HalfStorage', '1', 3, 0, [3])],
      ['bf16', view('BFloat16Storage', '2', 2, 0, [1, 2])],
    ]);
    const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const file = await binFile(
      'views',
      pickle,
      new Map([
        ['0', bytes(floats)],
        ['1', bytes(half)],
        ['2', bytes(bf16)],
      ]),
    );
    const tensors = await readTorchCheckpoint(file);
    expect(tensors.get('whole')).toEqual({ shape: [7], data: floats });
    expect(tensors.get('tail')).toEqual({ shape: [2, 3], data: new Float32Array([2, 3, 4, 5, 6, 7]) });
    expect(tensors.get('transposed')).toEqual({ shape: [3, 2], data: new Float32Array([2, 5, 3, 6, 4, 7]) });
    expect(tensors.get('half')).toEqual({ shape: [3], data: new Float32Array([1.5, -2, 65504]) });
    expect(tensors.get('bf16')).toEqual({ shape: [1, 2], data: new Float32Array([1.5, -2]) });
  });

  it.each([
    ['os', 'system'],
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['torch', 'load'],
  ])('refuses a pickle that calls %s.%s (GLOBAL + REDUCE), naming the file and the global, and runs nothing', async (module, name) => {
    const marker = path.join(work, `ran-${module}-${name}`);
    const p = new PickleWriter().global(module, name).string(`touch ${marker}`).raw(0x85, 0x52); // TUPLE1, REDUCE
    const file = await binFile(`evil-${module}-${name}`, p.bytes());
    await expect(readTorchCheckpoint(file)).rejects.toThrow(
      new RegExp(`${file.replaceAll('.', '\\.')}: the pickle names the global ${module}\\.${name}.*refused without running anything`),
    );
    expect(await exists(marker)).toBe(false);
  });

  it('refuses a forbidden global inside an otherwise valid state dict, through models convert', async () => {
    const dir = path.join(work, 'evil-checkpoint');
    await makeModel({ ...testModelOptions(AR), out: dir, checkpoint: true, weights: 'bin' });
    // A state dict whose one entry is `os.system('touch …')` instead of a tensor.
    const marker = path.join(work, 'ran-convert');
    const p = new PickleWriter().emptyOrderedDict().string('model.shared.weight').global('os', 'system').string(`touch ${marker}`);
    await writeFile(path.join(dir, 'pytorch_model.bin'), torchArchive(p.raw(0x85, 0x52, 0x73).bytes(), new Map()));
    await expect(convertCheckpoint(dir, path.join(work, 'evil-out'))).rejects.toThrow(
      /pytorch_model\.bin: the pickle names the global os\.system/,
    );
    expect(await exists(marker)).toBe(false);
    expect(await exists(path.join(work, 'evil-out'))).toBe(false);
  });

  it('refuses a truncated archive, and safetensors bytes under the .bin name, as not a readable zip', async () => {
    const dir = path.join(work, 'truncated');
    await makeModel({ ...testModelOptions(AR), out: dir, checkpoint: true, weights: 'bin' });
    const file = path.join(dir, 'pytorch_model.bin');
    const { length } = await readFile(file);
    await truncate(file, Math.floor(length / 2));
    await expect(convertCheckpoint(dir, path.join(work, 'truncated-out'))).rejects.toThrow(
      /pytorch_model\.bin is not a readable zip archive .*truncated or corrupt download; delete it and pull again/,
    );
    const safetensors = path.join(work, 'safetensors-named-bin');
    await makeModel({ ...testModelOptions(AR), out: safetensors, checkpoint: true });
    await expect(readTorchCheckpoint(path.join(safetensors, 'model.safetensors'))).rejects.toThrow(/is not a readable zip archive/);
  });

  it('refuses a compressed entry (a zip bomb: 512 MiB of zeros in a small file) before inflating it', async () => {
    const file = path.join(work, 'bomb.bin');
    const zeros = new Uint8Array(512 * 1024 * 1024);
    await writeFile(file, zipSync({ 'archive/data.pkl': [zeros, { level: 9 }], 'archive/version': strToU8('3\n') }));
    expect((await readFile(file)).length).toBeLessThan(4 * 1024 * 1024);
    await expect(readTorchCheckpoint(file)).rejects.toThrow(
      /bomb\.bin is not a readable zip archive \(entry archive\/data\.pkl is compressed/,
    );
  });

  it('reads an nn.Parameter (_rebuild_parameter around _rebuild_tensor_v2)', async () => {
    const p = new PickleWriter().emptyOrderedDict().raw(0x28).string('w'); // MARK, the key
    p.global('torch._utils', '_rebuild_parameter').raw(0x28); // MARK (data, requires_grad, backward_hooks)
    pickleTensor(p, { storageType: 'FloatStorage', key: '0', numel: 2, offset: 0, shape: [2], stride: [1] });
    p.raw(0x88).emptyOrderedDict().raw(0x74, 0x52, 0x75); // NEWTRUE, OrderedDict(), TUPLE, REDUCE, SETITEMS
    const file = await binFile('parameter', p.bytes(), new Map([['0', new Uint8Array(new Float32Array([0.5, -1]).buffer)]]));
    expect((await readTorchCheckpoint(file)).get('w')).toEqual({ shape: [2], data: new Float32Array([0.5, -1]) });
  });

  it('reads protocol 4 framing (FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE) and refuses os.system named that way', async () => {
    const short = (text: string) => [0x8c, text.length, ...Buffer.from(text, 'latin1'), 0x94]; // SHORT_BINUNICODE, MEMOIZE
    const stackGlobal = (module: string, name: string) => [...short(module), ...short(name), 0x93, 0x94];
    const frame = (body: number[]) => Buffer.from([0x80, 4, 0x95, body.length, 0, 0, 0, 0, 0, 0, 0, ...body, 0x2e]);
    const empty = frame([...stackGlobal('collections', 'OrderedDict'), 0x29, 0x52, 0x94]);
    expect((await readTorchCheckpoint(await binFile('protocol4', empty))).size).toBe(0);
    const evil = frame([...stackGlobal('os', 'system'), ...short('echo ran'), 0x85, 0x52]);
    await expect(readTorchCheckpoint(await binFile('protocol4-evil', evil))).rejects.toThrow(/the pickle names the global os\.system/);
  });

  it('finds data.pkl under the folder older torch releases named after the file (pytorch_model/)', async () => {
    const pickle = stateDictPickle([['w', { storageType: 'FloatStorage', key: '0', numel: 1, offset: 0, shape: [], stride: [] }]]);
    const file = path.join(work, 'old-folder.bin');
    await writeFile(file, torchArchive(pickle, new Map([['0', new Uint8Array(new Float32Array([3]).buffer)]]), 'pytorch_model'));
    expect((await readTorchCheckpoint(file)).get('w')).toEqual({ shape: [], data: new Float32Array([3]) });
  });

  it('refuses an archive whose storage has a flipped byte (its CRC-32 no longer matches)', async () => {
    const storage = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    const pickle = stateDictPickle([['w', { storageType: 'FloatStorage', key: '0', numel: 4, offset: 0, shape: [4], stride: [1] }]]);
    const archive = torchArchive(pickle, new Map([['0', storage]]));
    const file = path.join(work, 'flipped.bin');
    await writeFile(file, archive);
    expect((await readTorchCheckpoint(file)).get('w')?.data).toEqual(new Float32Array([1, 2, 3, 4]));
    const at = Buffer.from(archive).indexOf(Buffer.from(storage));
    archive[at + 5] = (archive[at + 5] as number) ^ 0x01;
    await writeFile(file, archive);
    await expect(readTorchCheckpoint(file)).rejects.toThrow(
      /flipped\.bin is not a readable zip archive \(entry archive\/data\/0 fails its CRC-32\): a truncated or corrupt download/,
    );
  });

  it('refuses a storage the archive lacks, and the legacy (pre-1.6, not zip) format with the way out', async () => {
    const pickle = stateDictPickle([['w', { storageType: 'FloatStorage', key: '0', numel: 4, offset: 0, shape: [4], stride: [1] }]]);
    await expect(readTorchCheckpoint(await binFile('missing-storage', pickle))).rejects.toThrow(/storage data\/0 of w is missing/);
    const legacy = path.join(work, 'legacy.bin');
    await writeFile(legacy, pickle);
    await expect(readTorchCheckpoint(legacy)).rejects.toThrow(/legacy\.bin is a legacy PyTorch checkpoint .*torch\.save/);
  });
});
