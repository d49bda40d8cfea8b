/**
 * A state dict written as a sharded checkpoint, in the layout transformers' `save_pretrained(max_shard_size=…)`
 * writes: tensors split by huggingface_hub's `split_state_dict_into_shards_factory` (serialization/_base.py:
 * in state-dict order, a new shard when the next tensor would take the current one past the limit, a tensor
 * over the limit alone in its own shard, tensors of one storage together, counted once), files named
 * `model-00001-of-00003.safetensors` / `pytorch_model-00001-of-00003.bin`, and the index
 * `<weights file>.index.json` as `json.dumps(index, indent=2, sort_keys=True) + "\n"`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type StoredTensor, writeSafetensors } from '../../src/models/convert/safetensors.js';
import { writeTorchCheckpoint } from './torch-checkpoint.js';

type Entries = [string, StoredTensor][];
type Format = 'safetensors' | 'bin';

/**
 * Which tensors share a storage: in pytorch_model.bin those of one Float32Array (writeTorchCheckpoint
 * stores it once, as torch stores a storage once); writeSafetensors writes every tensor's own copy.
 */
const storageOf = (format: Format) => (entry: Entries[number]) => (format === 'bin' ? entry[1].data : entry);

/** huggingface_hub's split for a limit of `maxShardSize` bytes. */
function split(tensors: Entries, maxShardSize: number, storage: (entry: Entries[number]) => unknown): Entries[] {
  const shards: Entries[] = [];
  const sameStorage = new Map<unknown, Entries>();
  let current: Entries = [];
  let currentSize = 0;
  for (const entry of tensors) {
    const tied = sameStorage.get(storage(entry));
    if (tied) {
      tied.push(entry);
      continue;
    }
    sameStorage.set(storage(entry), [entry]);
    const size = entry[1].data.byteLength;
    if (size > maxShardSize) {
      shards.push([entry]);
      continue;
    }
    if (currentSize + size > maxShardSize) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(entry);
    currentSize += size;
  }
  if (current.length > 0) shards.push(current);
  // The other tensors of a storage go to the shard of its first one, after that shard's tensors.
  for (const [first, ...rest] of sameStorage.values())
    shards.find((shard) => shard.includes(first as [string, StoredTensor]))?.push(...rest);
  return shards.filter((shard) => shard.length > 0);
}

/** The smallest limit (bytes) that gives at most `count` shards: what `max_shard_size` to pass save_pretrained. */
function limitFor(tensors: Entries, count: number, storage: (entry: Entries[number]) => unknown): number {
  let low = 1;
  let high = tensors.reduce((sum, [, t]) => sum + t.data.byteLength, 0);
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (split(tensors, mid, storage).length <= count) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Writes `tensors` into `dir` as `count` shards and their index, as safetensors or as torch.save's pytorch_model.bin. */
export async function writeShardedCheckpoint(dir: string, tensors: Entries, count: number, format: Format): Promise<void> {
  const storage = storageOf(format);
  const shards = split(tensors, limitFor(tensors, count, storage), storage);
  if (shards.length !== count)
    throw new Error(`the state dict cannot be split into ${count} shards by save_pretrained's rule (the nearest is ${shards.length})`);
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  const storages = new Set<unknown>();
  for (const [i, shard] of shards.entries()) {
    const suffix = `-${String(i + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}`;
    const name = format === 'bin' ? `pytorch_model${suffix}.bin` : `model${suffix}.safetensors`;
    if (format === 'bin') await writeTorchCheckpoint(path.join(dir, name), shard);
    else await writeSafetensors(path.join(dir, name), shard);
    for (const entry of shard) {
      weightMap[entry[0]] = name;
      if (!storages.has(storage(entry))) totalSize += entry[1].data.byteLength;
      storages.add(storage(entry));
    }
  }
  const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const index = format === 'bin' ? 'pytorch_model.bin.index.json' : 'model.safetensors.index.json';
  await writeFile(path.join(dir, index), `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2)}\n`);
}
