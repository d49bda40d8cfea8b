/** The manifest a pull writes into a model folder: where the files came from, and each one's size and sha256. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../output/atomic-write.js';
import { syncDir } from './files.js';
import type { ModelLicense } from './license.js';

export const MANIFEST_FILE = 'newsbridge-manifest.json';

export interface ManifestFile {
  bytes: number;
  sha256: string;
}

export interface ModelManifest {
  id: string;
  revision: string;
  /** Base URL the files came from (the hub or a mirror). */
  source: string;
  pulledAt: string;
  /** The model's licence (./license.ts); absent in manifests written before it was recorded, or when unknown. */
  license?: ModelLicense;
  files: Record<string, ManifestFile>;
}

export async function readManifest(modelDir: string): Promise<ModelManifest | null> {
  try {
    return JSON.parse(await readFile(path.join(modelDir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Replaces the manifest atomically and durably. */
export async function writeManifest(modelDir: string, manifest: ModelManifest): Promise<void> {
  await writeFileAtomic(path.join(modelDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await syncDir(modelDir);
}
