/**
 * Sharded checkpoints as transformers' `save_pretrained(max_shard_size=…)` writes them: an index,
 * `model.safetensors.index.json` or `pytorch_model.bin.index.json`, holding
 * `{ "metadata": { "total_size": N }, "weight_map": { "<tensor>": "<shard file>" } }`, and beside it the
 * shards (`model-00001-of-00003.safetensors`, `pytorch_model-00001-of-00003.bin`), each a complete
 * safetensors file or torch.save archive of its tensors. Shards are read one at a time by the
 * single-file readers, so memory holds the tensors plus at most one shard's reading, as with one file.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoredTensor } from './safetensors.js';

/** Each index file and the extension of the shards it names. */
export const SHARD_INDEX_FILES: Record<string, string> = {
  'model.safetensors.index.json': '.safetensors',
  'pytorch_model.bin.index.json': '.bin',
};

export const isShardIndex = (file: string) => path.basename(file) in SHARD_INDEX_FILES;

export interface CheckpointIndex {
  file: string;
  /** Tensor name → shard file name (beside the index). */
  weightMap: Map<string, string>;
  /** The shard files, sorted (so `-00001-of-…` first). */
  shards: string[];
}

/** A shard is a plain file name beside its index: no separator, no `..`, no leading dot. */
const SHARD_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function parseIndex(file: string, text: string): Record<string, unknown> {
  try {
    const json = JSON.parse(text) as unknown;
    if (json && typeof json === 'object' && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); download it again from the model's repo`);
  }
  throw new Error(`${file} is not a JSON object; download it again from the model's repo`);
}

/** Reads and checks a shard index: every shard name must be a file beside it, of the index's format. */
export async function readCheckpointIndex(file: string): Promise<CheckpointIndex> {
  const json = parseIndex(file, await readFile(file, 'utf8'));
  const map = json.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map) || Object.keys(map).length === 0)
    throw new Error(`${file} has no weight_map ({"weight_map": {"<tensor>": "<shard file>"}}); download it again from the model's repo`);
  const extension = SHARD_INDEX_FILES[path.basename(file)] ?? '.safetensors';
  const weightMap = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !SHARD_NAME.test(shard) || !shard.endsWith(extension))
      throw new Error(
        `${file}: weight_map puts ${tensor} in ${JSON.stringify(shard)}, which is not a ${extension} file name beside the index ` +
          "(no path separator, no .., no leading dot); the index is damaged or not from a Hugging Face checkpoint: download it again from the model's repo",
      );
    weightMap.set(tensor, shard);
  }
  return { file, weightMap, shards: [...new Set(weightMap.values())].sort() };
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

export interface ShardedTensors {
  tensors: Map<string, StoredTensor>;
  /** The shard file each tensor came from, to name in errors. */
  fileOf: Map<string, string>;
}

/**
 * Every tensor of the shards `index` names, each read by `readShard`. A shard and the index must agree
 * exactly: a tensor in the wrong shard, or missing from its shard, means files of two checkpoints.
 */
export async function readShards(
  index: CheckpointIndex,
  readShard: (file: string) => Promise<Map<string, StoredTensor>>,
): Promise<ShardedTensors> {
  const dir = path.dirname(index.file);
  const indexName = path.basename(index.file);
  const missing: string[] = [];
  for (const shard of index.shards) if (!(await exists(path.join(dir, shard)))) missing.push(shard);
  if (missing.length > 0)
    throw new Error(
      `${dir} lacks ${missing.join(', ')} (${missing.length} of the ${index.shards.length} shards ${indexName} names); ` +
        'download them (`newsbridge models pull` resumes) or convert a complete checkpoint',
    );
  const tensors = new Map<string, StoredTensor>();
  const fileOf = new Map<string, string>();
  for (const shard of index.shards) {
    const shardFile = path.join(dir, shard);
    const read = await readShard(shardFile);
    const again = `the shards and ${indexName} are not of one checkpoint: download them again from one revision`;
    for (const [name, tensor] of read) {
      const listed = index.weightMap.get(name);
      if (listed !== shard)
        throw new Error(`${shardFile} holds ${name}, which ${indexName} ${listed ? `puts in ${listed}` : 'does not list'}; ${again}`);
      tensors.set(name, tensor);
      fileOf.set(name, shardFile);
    }
    for (const [name, listed] of index.weightMap)
      if (listed === shard && !read.has(name)) throw new Error(`${shardFile} has no ${name}, which ${indexName} puts there; ${again}`);
  }
  return { tensors, fileOf };
}
