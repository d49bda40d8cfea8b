/**
 * pytorch_model.bin as torch.save writes it since PyTorch 1.6 (torch/serialization.py, `_save`): a zip
 * archive of `<archive>/data.pkl` (the state dict, pickled with persistent ids for the storages),
 * `<archive>/data/<key>` (each storage's raw little-endian bytes), `<archive>/byteorder` and
 * `<archive>/version`. The zip is read with fflate; the pickle with our restricted unpickler
 * (torch-pickle.ts), which never runs code. Tensors come out as the safetensors reader gives them
 * (Float32Array, fp16/bf16 widened), so the converter builds the same graphs from either file.
 */
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { unzipSync } from 'fflate';
import { type StoredTensor, widenHalves } from './safetensors.js';
import { type StorageDtype, type TensorView, unpickleStateDict } from './torch-pickle.js';

const ELEMENT_BYTES: Record<StorageDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Reads the whole file into one buffer (fs.readFile stops at 2 GiB; a 600M-parameter model's fp32 pytorch_model.bin is 2.4 GB). */
async function readWhole(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(size - at, 1 << 30), at);
      if (bytesRead === 0) throw new Error(`${file} shrank while being read`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Each entry's CRC-32 as the zip's central directory records it (APPNOTE 4.3.12, 4.3.14-16; zip64 for
 * archives past 4 GiB), so that a flipped byte in a storage is caught: fflate does not check CRCs.
 */
function recordedCrcs(bytes: Uint8Array): Map<string, number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error('no zip end-of-central-directory record');
  let count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (at === 0xffffffff && end >= 20 && view.getUint32(end - 20, true) === 0x07064b50) {
    const zip64 = Number(view.getBigUint64(end - 12, true));
    count = Number(view.getBigUint64(zip64 + 32, true));
    at = Number(view.getBigUint64(zip64 + 48, true));
  }
  const crcs = new Map<string, number>();
  for (let i = 0; i < count && at + 46 <= bytes.length && view.getUint32(at, true) === 0x02014b50; i++) {
    const nameLength = view.getUint16(at + 28, true);
    const name = Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
    crcs.set(name, view.getUint32(at + 16, true));
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return crcs;
}

/** The archive's entries, named without the archive folder (`data.pkl`, `data/0`, …). */
function unzipArchive(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  const pickleMagic = bytes[0] === 0x80 && bytes[1] === 0x02;
  if (pickleMagic)
    throw new Error(
      `${file} is a legacy PyTorch checkpoint (the pre-1.6 format, not a zip archive), which is not read. ` +
        'Save it again with a current torch (torch.save(torch.load(f, weights_only=True), f)) or export model.safetensors, then convert again',
    );
  let entries: Record<string, Uint8Array>;
  try {
    // torch.save stores every entry uncompressed: a deflated one is not its output, and could be a zip bomb.
    entries = unzipSync(bytes, {
      filter: (entry) => {
        if (entry.compression !== 0) throw new Error(`entry ${entry.name} is compressed, which torch.save never does`);
        return true;
      },
    });
    const crcs = recordedCrcs(bytes);
    for (const [name, data] of Object.entries(entries)) {
      // 0: torch.serialization.set_crc32_options(False) saves without computing them.
      const recorded = crcs.get(name);
      if (recorded && recorded !== crc32(data)) throw new Error(`entry ${name} fails its CRC-32`);
    }
  } catch (error) {
    throw new Error(
      `${file} is not a readable zip archive (${(error as Error).message}): a truncated or corrupt download; delete it and pull again`,
    );
  }
  const pickle = Object.keys(entries).find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickle) throw new Error(`${file} is a zip archive without <archive>/data.pkl, so not a PyTorch checkpoint`);
  const prefix = pickle.slice(0, -'data.pkl'.length);
  return new Map(
    Object.entries(entries)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, data]) => [name.slice(prefix.length), data]),
  );
}

/** A storage's elements as float32 (fp16 and bf16 widened, integers converted). */
function decodeStorage(bytes: Uint8Array, dtype: StorageDtype, numel: number): Float32Array {
  const copy = bytes.slice(0, numel * ELEMENT_BYTES[dtype]).buffer;
  if (dtype === 'F32') return new Float32Array(copy);
  if (dtype === 'F16' || dtype === 'BF16') return widenHalves(new Uint16Array(copy), dtype === 'BF16');
  if (dtype === 'F64') return Float32Array.from(new Float64Array(copy));
  if (dtype === 'I64') return Float32Array.from(new BigInt64Array(copy), Number);
  const typed = { I32: Int32Array, I16: Int16Array, I8: Int8Array, U8: Uint8Array, BOOL: Uint8Array }[dtype];
  return Float32Array.from(new typed(copy));
}

/**
 * The tensor's elements in row-major order: its storage itself when it covers all of it (tied tables share
 * one storage and so one array, as fromStateDict shares them), a copied slice when contiguous, else
 * gathered through its strides.
 */
function materialise(storage: Float32Array, view: TensorView, name: string, file: string): Float32Array {
  const count = view.shape.reduce((a, b) => a * b, 1);
  const last = view.shape.reduce((end, size, i) => end + (size - 1) * (view.stride[i] as number), view.offset);
  if (view.shape.length !== view.stride.length || (count > 0 && last >= storage.length))
    throw new Error(
      `${file}: tensor ${name} (shape [${view.shape}], stride [${view.stride}]) reaches past its storage; the file is corrupt`,
    );
  let expected = 1;
  const contiguous = view.shape.every((_, i) => {
    const axis = view.shape.length - 1 - i;
    const ok = view.shape[axis] === 1 || view.stride[axis] === expected;
    expected *= view.shape[axis] as number;
    return ok;
  });
  if (contiguous) return view.offset === 0 && count === storage.length ? storage : storage.slice(view.offset, view.offset + count);
  const out = new Float32Array(count);
  const index = new Array<number>(view.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    out[i] = storage[index.reduce((at, n, axis) => at + n * (view.stride[axis] as number), view.offset)] as number;
    for (let axis = index.length - 1; axis >= 0; axis--) {
      index[axis] = (index[axis] as number) + 1;
      if ((index[axis] as number) < (view.shape[axis] as number)) break;
      index[axis] = 0;
    }
  }
  return out;
}

/** Reads every tensor of a PyTorch zip checkpoint (pytorch_model.bin), refusing any pickle that is not a plain state dict. */
export async function readTorchCheckpoint(file: string): Promise<Map<string, StoredTensor>> {
  const entries = unzipArchive(await readWhole(file), file);
  const byteorder = entries.get('byteorder');
  if (byteorder && Buffer.from(byteorder).toString('latin1').trim() !== 'little')
    throw new Error(`${file} was saved on a big-endian machine; save it again on a little-endian one`);
  const views = unpickleStateDict(Buffer.from(entries.get('data.pkl') as Uint8Array), file);
  const storages = new Map<string, Float32Array>();
  const tensors = new Map<string, StoredTensor>();
  for (const [name, view] of views) {
    const { key, dtype, numel } = view.storage;
    let storage = storages.get(key);
    if (!storage) {
      const bytes = entries.get(`data/${key}`);
      if (!bytes || bytes.length < numel * ELEMENT_BYTES[dtype])
        throw new Error(`${file}: storage data/${key} of ${name} is ${bytes ? 'shorter than its tensor' : 'missing'}; the file is corrupt`);
      storage = decodeStorage(bytes, dtype, numel);
      storages.set(key, storage);
      entries.delete(`data/${key}`); // decoded: its bytes can go before the next storage is read
    }
    tensors.set(name, { shape: view.shape, data: materialise(storage, view, name, file) });
  }
  return tensors;
}
