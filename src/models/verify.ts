/**
 * Checks of installed model files: the cheap one before loading (present, sizes as the manifest
 * records), the full one by sha256, and whether a file is what its name says (JSON, ONNX).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import protobuf from 'protobufjs/minimal.js';
import type { ModelDtype } from '../config/config.js';
import { type ModelLabel, ModelUnavailableError } from '../errors.js';
import { fileSize, sha256File } from './files.js';
import type { PublishedFile } from './hub.js';
import { modelFilesIn } from './layout.js';
import { MANIFEST_FILE, readManifest, type ModelManifest } from './manifest.js';

/**
 * Cheap check before loading: every file the dtype needs is there, and where a manifest exists, has
 * the size it records (a full hash check is `verifyModel`).
 */
export async function assertModelReady(modelDir: string, dtype: ModelDtype, model: ModelLabel): Promise<void> {
  if ((await fileSize(modelDir)) === null) {
    throw new ModelUnavailableError(model, modelDir, null, 'does not exist (the model is not installed)');
  }
  const manifest = await readManifest(modelDir);
  for (const file of await modelFilesIn(modelDir, dtype)) {
    const bytes = await fileSize(path.join(modelDir, file));
    if (bytes === null) throw new ModelUnavailableError(model, modelDir, file, 'is missing');
    const expected = manifest?.files[file]?.bytes;
    if (expected !== undefined && expected !== bytes) {
      throw new ModelUnavailableError(model, modelDir, file, `is corrupt (${bytes} bytes, the manifest says ${expected})`);
    }
  }
}

export interface FileProblem {
  file: string;
  problem: 'missing' | 'size' | 'sha256' | 'format';
  detail: string;
}

export interface VerifyReport {
  modelDir: string;
  manifest: ModelManifest | null;
  /** Files checked against the manifest (every file the manifest lists). */
  checked: string[];
  problems: FileProblem[];
}

/** Re-checks every file in the manifest by size and sha256. */
export async function verifyModel(modelDir: string): Promise<VerifyReport> {
  const manifest = await readManifest(modelDir);
  const report: VerifyReport = { modelDir, manifest, checked: [], problems: [] };
  if (!manifest) return report;
  for (const [file, expected] of Object.entries(manifest.files)) {
    report.checked.push(file);
    const full = path.join(modelDir, file);
    const bytes = await fileSize(full);
    if (bytes === null) {
      report.problems.push({ file, problem: 'missing', detail: 'is missing' });
    } else if (bytes !== expected.bytes) {
      report.problems.push({ file, problem: 'size', detail: `has ${bytes} bytes, the manifest says ${expected.bytes}` });
    } else {
      const sha256 = await sha256File(full);
      const format = sha256 === expected.sha256 ? await fileProblem(full, file) : null;
      if (sha256 !== expected.sha256) {
        report.problems.push({ file, problem: 'sha256', detail: `has sha256 ${sha256}, the manifest says ${expected.sha256}` });
      } else if (format) {
        // The manifest records what arrived; a pull before downloads were checked may have recorded an error page.
        report.problems.push({ file, problem: 'format', detail: `${format}; run \`newsbridge models pull\` to replace it` });
      }
    }
  }
  return report;
}

/** Turns a failed verification into the one clear error. */
export function verifyError(report: VerifyReport, model: ModelLabel): ModelUnavailableError | null {
  if (!report.manifest) {
    return new ModelUnavailableError(model, report.modelDir, MANIFEST_FILE, 'is missing, so the files cannot be checked');
  }
  const first = report.problems[0];
  if (!first) return null;
  const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more bad files)` : '';
  return new ModelUnavailableError(model, report.modelDir, first.file, `${first.detail}${more}`);
}

/**
 * What is wrong with a model file, or null: its size or sha256 differs from what the hub publishes,
 * or it does not parse as what its name says (JSON; an ONNX model: a protobuf whose top-level fields
 * include the IR version and the graph). An HTML error page served with status 200 fails here.
 * `sha256` is the file's hash when the caller already has it (a download hashes as it writes).
 */
export async function fileProblem(fullPath: string, file: string, published: PublishedFile = {}, sha256?: string): Promise<string | null> {
  const size = await fileSize(fullPath);
  if (size === null) return 'is missing';
  if (published.bytes !== undefined && size !== published.bytes) return `has ${size} bytes where the hub publishes ${published.bytes}`;
  if (published.sha256 !== undefined) {
    const actual = sha256 ?? (await sha256File(fullPath));
    if (actual !== published.sha256) return `has sha256 ${actual} where the hub publishes ${published.sha256}`;
  }
  if (file.endsWith('.json')) {
    const text = await readFile(fullPath, 'utf8');
    try {
      JSON.parse(text);
    } catch (error) {
      return `is not valid JSON (${(error as Error).message}; it starts ${JSON.stringify(text.slice(0, 40))})`;
    }
  } else if (file.endsWith('.onnx')) {
    const problem = onnxProblem(await readFile(fullPath));
    if (problem) return `is not an ONNX model (${problem})`;
  }
  return null;
}

/** Walks the top-level protobuf fields of an ONNX ModelProto without decoding the weights. */
function onnxProblem(bytes: Uint8Array): string | null {
  const reader = protobuf.Reader.create(bytes);
  const fields = new Set<number>();
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 0) return `field 0 at byte ${reader.pos}`;
      fields.add(tag >>> 3);
      reader.skipType(tag & 7);
    }
  } catch (error) {
    return `${(error as Error).message}; it starts ${JSON.stringify(Buffer.from(bytes.subarray(0, 24)).toString('latin1'))}`;
  }
  // ModelProto: 1 ir_version, 7 graph.
  if (!fields.has(1) || !fields.has(7)) return 'no IR version or graph';
  return null;
}
