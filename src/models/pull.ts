/**
 * `pullModel`: installs the files a dtype needs from the hub or a mirror, keeping those already
 * there with the hash the manifest records, and recording each new file in the manifest. A repo
 * with no ONNX export is pulled as its checkpoint (a sharded one as its index and every shard it
 * names) and converted in place (`models convert`).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ModelDtype } from '../config/config.js';
import { CHECKPOINT_FILES, WEIGHT_FILES, convertCheckpoint } from './convert/convert.js';
import { isShardIndex, readCheckpointIndex } from './convert/sharded.js';
import { downloadFile, type DownloadCheck, type DownloadedFile } from './download.js';
import { fileSize, sha256File } from './files.js';
import { assertNoCredentials, fileUrl, type PublishedFile, publishedFiles } from './hub.js';
import { modelDirOf, modelFiles, modelFilesIn } from './layout.js';
import { modelLicense } from './license.js';
import { type ManifestFile, type ModelManifest, readManifest, writeManifest } from './manifest.js';
import { type RetryPolicy, withRetries } from './retry.js';
import { fileProblem } from './verify.js';

export interface PullProgress {
  file: string;
  bytesDone: number;
  /** null while the server has not said how big the file is. */
  bytesTotal: number | null;
  /** `verified`: the file was already there with the manifest's hash and was not downloaded again. */
  state: 'downloading' | 'done' | 'verified';
}

export interface PullOptions extends RetryPolicy {
  id: string;
  revision: string;
  modelsDir: string;
  dtype: ModelDtype;
  /** Base URL with the hub's layout, e.g. `https://huggingface.co`. */
  mirror: string;
  onProgress?: (progress: PullProgress) => void;
  /** A download that receives no byte for this long (headers included) is dropped and retried. Default 60 s. */
  stallMs?: number;
  /** A file not complete this long after its first request fails, retries included. Default 30 min. */
  fileDeadlineMs?: number;
}

const DEFAULT_STALL_MS = 60_000;
const DEFAULT_FILE_DEADLINE_MS = 30 * 60_000;

/**
 * Downloads the files a dtype needs into `<modelsDir>/<id>/` (see download.ts for how each file
 * arrives whole). Files already present with the hash in the manifest are kept. Writes the
 * manifest after every file.
 */
export async function pullModel(options: PullOptions): Promise<ModelManifest> {
  const modelDir = modelDirOf(options.modelsDir, options.id);
  assertNoCredentials(options.mirror);
  await mkdir(modelDir, { recursive: true });
  const previous = await readManifest(modelDir);
  const sameSource = previous?.id === options.id && previous.revision === options.revision;
  const manifest: ModelManifest = {
    id: options.id,
    revision: options.revision,
    source: options.mirror,
    pulledAt: new Date().toISOString(),
    files: sameSource ? { ...previous.files } : {},
  };
  // What the hub says each file is; a mirror without the API still has the resolve headers.
  const revision = await publishedFiles(options, {
    ...options,
    stallMs: options.stallMs ?? DEFAULT_STALL_MS,
    deadline: Date.now() + (options.fileDeadlineMs ?? DEFAULT_FILE_DEADLINE_MS),
  });
  const published = revision?.files ?? null;
  const license = modelLicense(options.id, revision?.license ?? null);
  if (license) manifest.license = license;
  const checkpoint = published !== null && checkpointFilesToConvert(published);
  let downloaded = false;
  const install = async (file: string) => {
    const target = path.join(modelDir, file);
    const known = manifest.files[file];
    const expected = published?.get(file);
    if (known && (await keepsInstalledFile(target, file, known, expected))) {
      options.onProgress?.({ file, bytesDone: known.bytes, bytesTotal: known.bytes, state: 'verified' });
      return;
    }
    await mkdir(path.dirname(target), { recursive: true });
    manifest.files[file] = await downloadWithRetries(target, file, options, (part, linked, sha256) =>
      fileProblem(part, file, { ...linked, ...expected }, sha256),
    );
    downloaded = true;
    await writeManifest(modelDir, manifest);
  };
  const files = checkpoint || modelFiles(options.dtype);
  for (const file of files) await install(file);
  // A sharded checkpoint: then the shards its index (just installed) names.
  if (checkpoint && published) for (const shard of await shardsToPull(modelDir, checkpoint, published)) await install(shard);
  // Then the external data (`onnx/<graph>_data`) that the config.json just installed lists for the dtype's graphs.
  if (!checkpoint) for (const file of await modelFilesIn(modelDir, options.dtype)) if (!files.includes(file)) await install(file);
  if (checkpoint) await convertPulledCheckpoint(modelDir, manifest, options.dtype, downloaded);
  await writeManifest(modelDir, manifest);
  return manifest;
}

/**
 * A repo with a checkpoint and no `onnx/` folder (most Helsinki-NLP models): the checkpoint files it
 * publishes, to download and convert; false for a repo with an ONNX export.
 */
function checkpointFilesToConvert(published: Map<string, PublishedFile>): string[] | false {
  const names = [...published.keys()];
  if (names.some((name) => name.startsWith('onnx/')) || !published.has('config.json')) return false;
  // One weights file: model.safetensors when published, else pytorch_model.bin (read without running its pickle),
  // either possibly as a shard index whose shards follow (shardsToPull).
  const weights = WEIGHT_FILES.find((file) => published.has(file));
  if (!weights) return false;
  return [...CHECKPOINT_FILES.filter((file) => !WEIGHT_FILES.includes(file)), weights].filter((file) => published.has(file));
}

/**
 * The shards a pulled shard index names (none for a checkpoint in one file). The index is checked
 * first, so a shard name that would leave the model folder is refused before anything is requested.
 */
async function shardsToPull(modelDir: string, checkpoint: string[], published: Map<string, PublishedFile>): Promise<string[]> {
  const index = checkpoint.find(isShardIndex);
  if (!index) return [];
  const { file, shards } = await readCheckpointIndex(path.join(modelDir, index));
  const unpublished = shards.filter((shard) => !published.has(shard));
  if (unpublished.length > 0)
    throw new Error(`${file} names ${unpublished.join(', ')}, which the repo does not publish; the repo's checkpoint is incomplete`);
  return shards;
}

/** Converts the pulled checkpoint in place (when something new arrived or a converted file is gone) and records the ONNX files. */
async function convertPulledCheckpoint(modelDir: string, manifest: ModelManifest, dtype: ModelDtype, downloaded: boolean): Promise<void> {
  const converted = await modelFilesIn(modelDir, dtype);
  const intact = await Promise.all(
    converted.map(async (file) => (await fileSize(path.join(modelDir, file))) === manifest.files[file]?.bytes),
  );
  if (!downloaded && intact.every(Boolean)) return;
  await convertCheckpoint(modelDir, modelDir);
  // Listed again after the conversion: a graph over 2 GB has just been written with its external data.
  const other: ModelDtype = dtype === 'q8' ? 'fp32' : 'q8';
  for (const file of [...new Set([...(await modelFilesIn(modelDir, dtype)), ...(await modelFilesIn(modelDir, other))])]) {
    const full = path.join(modelDir, file);
    manifest.files[file] = { bytes: (await fileSize(full)) as number, sha256: await sha256File(full) };
  }
}

/**
 * A file is kept only if it is what the manifest recorded and what the hub publishes, and parses:
 * a bad file recorded by an earlier pull is replaced now.
 */
async function keepsInstalledFile(
  target: string,
  file: string,
  known: ManifestFile,
  expected: PublishedFile | undefined,
): Promise<boolean> {
  if ((await fileSize(target)) !== known.bytes) return false;
  const sha256 = await sha256File(target);
  return sha256 === known.sha256 && (await fileProblem(target, file, expected, sha256)) === null;
}

async function downloadWithRetries(target: string, file: string, options: PullOptions, check: DownloadCheck): Promise<DownloadedFile> {
  const url = fileUrl(options.mirror, options.id, options.revision, file);
  const deadline = Date.now() + (options.fileDeadlineMs ?? DEFAULT_FILE_DEADLINE_MS);
  const limits = { deadline, stallMs: options.stallMs ?? DEFAULT_STALL_MS, signal: options.signal };
  return withRetries(url, options, deadline, () =>
    downloadFile(url, target, limits, check, (bytesDone, bytesTotal, state) =>
      options.onProgress?.({ file, bytesDone, bytesTotal, state }),
    ),
  );
}
