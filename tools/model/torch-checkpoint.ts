/**
 * Test-only writer of pytorch_model.bin in the layout torch.save has written since PyTorch 1.6, so the
 * converter's .bin reader is tested on real files without Python. It follows torch/serialization.py
 * (`_save`: the state dict pickled with protocol 2, each storage replaced by the persistent id
 * `('storage', torch.FloatStorage, key, 'cpu', numel)` and written to `archive/data/<key>`, then
 * `archive/byteorder`, `archive/version`, `archive/.data/serialization_id`, all stored uncompressed) and
 * what Python's pickle.Pickler emits for an OrderedDict of `torch._utils._rebuild_tensor_v2` calls
 * (torch/_tensor.py `__reduce_ex__`; the opcodes torch/_weights_only_unpickler.py accepts), memo
 * included. Tensors that share a Float32Array share a storage, as tied parameters do in torch.
 */
import { writeFile } from 'node:fs/promises';
import { zipSync } from 'fflate';
import type { StoredTensor } from '../../src/models/convert/safetensors.js';

/** Pickle protocol 2, as Python's Pickler writes it (pickle.py opcode names). */
export class PickleWriter {
  private readonly chunks: Buffer[] = [Buffer.from([0x80, 2])]; // PROTO 2
  private readonly memo = new Map<string, number>();

  /** Memoizes the object just written (BINPUT), as Python's Pickler does for every tuple, string, global and reduce result. */
  put(key = `object ${this.memo.size}`): void {
    const index = this.memo.size;
    this.memo.set(key, index);
    this.chunks.push(index < 256 ? Buffer.from([0x71, index]) : Buffer.concat([Buffer.from([0x72]), u32(index)])); // BINPUT, LONG_BINPUT
  }

  /** Emits `key`'s object from the memo when it was pickled before, else writes it and memoizes it. */
  private memoized(key: string, write: () => void): void {
    const index = this.memo.get(key);
    if (index === undefined) {
      write();
      this.put(key);
    } else this.chunks.push(index < 256 ? Buffer.from([0x68, index]) : Buffer.concat([Buffer.from([0x6a]), u32(index)])); // BINGET
  }

  raw(...bytes: number[]): this {
    this.chunks.push(Buffer.from(bytes));
    return this;
  }

  global(module: string, name: string): this {
    this.memoized(`global ${module}.${name}`, () => this.chunks.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'))); // GLOBAL
    return this;
  }

  string(text: string): this {
    this.memoized(`str ${text}`, () => {
      const bytes = Buffer.from(text, 'utf8');
      this.chunks.push(Buffer.from([0x58]), u32(bytes.length), bytes); // BINUNICODE
    });
    return this;
  }

  int(value: number): this {
    if (value >= 0 && value < 256) return this.raw(0x4b, value); // BININT1
    if (value >= 0 && value < 65536) return this.raw(0x4d, value & 0xff, value >> 8); // BININT2
    const bytes = Buffer.alloc(4);
    bytes.writeInt32LE(value);
    this.chunks.push(Buffer.from([0x4a]), bytes); // BININT
    return this;
  }

  /** A tuple of ints (a size or stride): TUPLE1..3 for short ones, MARK … TUPLE else; memoized as Python does. */
  intTuple(values: number[]): this {
    if (values.length === 0) return this.raw(0x29); // EMPTY_TUPLE
    if (values.length > 3) this.raw(0x28); // MARK
    for (const value of values) this.int(value);
    this.raw(values.length > 3 ? 0x74 : 0x84 + values.length);
    this.put();
    return this;
  }

  /** `collections.OrderedDict()`: GLOBAL, EMPTY_TUPLE, REDUCE. */
  emptyOrderedDict(): this {
    this.global('collections', 'OrderedDict').raw(0x29, 0x52);
    this.put();
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.from([0x2e])]); // STOP
  }
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
}

/** A tensor as torch pickles it: a view (offset, size, stride) of a storage of `numel` elements of `storageType`. */
export interface PickledTensor {
  storageType: string;
  key: string;
  numel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

/** The row-major strides of `shape`, as a contiguous tensor has them. */
export const contiguousStride = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/** One tensor: `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`, its storage by persistent id. */
export function pickleTensor(p: PickleWriter, t: PickledTensor): void {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.raw(0x28); // MARK (the 6-tuple of arguments)
  p.raw(0x28).string('storage').global('torch', t.storageType).string(t.key).string('cpu').int(t.numel).raw(0x74); // the pid
  p.put();
  p.raw(0x51); // BINPERSID
  p.int(t.offset).intTuple(t.shape).intTuple(t.stride).raw(0x89); // offset, size, stride, requires_grad=False
  p.emptyOrderedDict(); // backward_hooks
  p.raw(0x74); // TUPLE
  p.put();
  p.raw(0x52); // REDUCE
  p.put();
}

/** The pickle of a state dict: OrderedDict, its items in SETITEMS batches of 1000 (as pickle.py batches), then its `_metadata`. */
export function stateDictPickle(tensors: [string, PickledTensor][]): Buffer {
  const p = new PickleWriter();
  p.emptyOrderedDict();
  for (let start = 0; start < tensors.length; start += 1000) {
    p.raw(0x28); // MARK
    for (const [name, tensor] of tensors.slice(start, start + 1000)) {
      p.string(name);
      pickleTensor(p, tensor);
    }
    p.raw(0x75); // SETITEMS
  }
  // state = {'_metadata': OrderedDict([('', {'version': 1})])}, set by BUILD as torch's state_dict() carries it.
  p.raw(0x7d).string('_metadata').emptyOrderedDict().string('').raw(0x7d).string('version').int(1).raw(0x73, 0x73, 0x73, 0x62);
  return p.bytes();
}

/**
 * The zip archive torch.save writes around a pickle and its storages (key → raw little-endian bytes).
 * Its folder is `archive` in current torch; older releases named it after the file (`pytorch_model`).
 */
export function torchArchive(pickle: Uint8Array, storages: Map<string, Uint8Array>, folder = 'archive'): Uint8Array {
  const files: Record<string, Uint8Array> = { [`${folder}/data.pkl`]: pickle, [`${folder}/byteorder`]: Buffer.from('little') };
  for (const [key, bytes] of storages) files[`${folder}/data/${key}`] = bytes;
  files[`${folder}/version`] = Buffer.from('3\n');
  files[`${folder}/.data/serialization_id`] = Buffer.from('0000000000000000000000000000000000000000');
  // Stored, not deflated, with a fixed time, as torch writes them: the same weights give the same file.
  return zipSync(files, { level: 0, mtime: new Date('2020-01-01T00:00:00Z') });
}

/** Writes `tensors` (float32) as torch.save writes a state dict to pytorch_model.bin. */
export async function writeTorchCheckpoint(file: string, tensors: [string, StoredTensor][]): Promise<void> {
  const storages = new Map<Float32Array, string>();
  const pickled = tensors.map(([name, { shape, data }]): [string, PickledTensor] => {
    if (!storages.has(data)) storages.set(data, String(storages.size));
    const key = storages.get(data) as string;
    return [name, { storageType: 'FloatStorage', key, numel: data.length, offset: 0, shape, stride: contiguousStride(shape) }];
  });
  const bytes = new Map([...storages].map(([data, key]) => [key, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]));
  await writeFile(file, torchArchive(stateDictPickle(pickled), bytes));
}
