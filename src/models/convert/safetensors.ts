/**
 * The safetensors format (https://github.com/huggingface/safetensors, "Format"): an 8-byte
 * little-endian header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] },
 * "__metadata__": {…} }`, then the tensor bytes, offsets relative to the end of the header.
 * Written here because npm has no maintained safetensors package (the format is 30 lines).
 * F32, F16 and BF16 tensors are read as Float32Array (HF checkpoints of these models are one of them).
 */
import { open } from 'node:fs/promises';

export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** fp16 or bf16 elements as float32 (bf16 is the top half of a float32; fp16 has its own exponent bias). */
export function widenHalves(halves: Uint16Array, bf16: boolean): Float32Array {
  const out = new Float32Array(halves.length);
  const widened = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) {
    if (bf16) widened[i] = (halves[i] as number) << 16;
    else out[i] = halfToFloat(halves[i] as number);
  }
  return out;
}

function decode(file: string, name: string, entry: HeaderEntry, bytes: Buffer): Float32Array {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const copy = (length: number) => new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + length));
  if (entry.dtype === 'F32') return new Float32Array(copy(count * 4).buffer);
  if (entry.dtype === 'F16' || entry.dtype === 'BF16') return widenHalves(new Uint16Array(copy(count * 2).buffer), entry.dtype === 'BF16');
  throw new Error(`${file}: tensor ${name} has dtype ${entry.dtype}; the converter reads F32, F16 and BF16 checkpoints`);
}

/** Reads every tensor of a .safetensors file. */
export async function readSafetensors(file: string): Promise<Map<string, StoredTensor>> {
  const handle = await open(file, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    const { size } = await handle.stat();
    if (headerLength <= 0 || 8 + headerLength > size)
      throw new Error(`${file} is not a safetensors file (header length ${headerLength}, file ${size} bytes)`);
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    const header = JSON.parse(headerBytes.toString('utf8')) as Record<string, HeaderEntry>;
    const tensors = new Map<string, StoredTensor>();
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const [begin, end] = entry.data_offsets;
      const bytes = Buffer.alloc(end - begin);
      await handle.read(bytes, 0, end - begin, 8 + headerLength + begin);
      tensors.set(name, { shape: entry.shape, data: decode(file, name, entry, bytes) });
    }
    return tensors;
  } finally {
    await handle.close();
  }
}

/** Writes F32 tensors (in the given order) as a .safetensors file, with HF's `format: pt` metadata. */
export async function writeSafetensors(file: string, tensors: [string, StoredTensor][]): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    header[name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  // The header is padded with spaces to a multiple of 8, as the Rust implementation does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const handle = await open(file, 'w');
  try {
    await handle.write(length);
    await handle.write(Buffer.from(json, 'utf8'));
    for (const [, tensor] of tensors)
      await handle.write(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  } finally {
    await handle.close();
  }
}
