import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whatever the working directory. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A path inside the shared data folder that sits beside the repository (`../shared`). */
export function sharedPath(relative: string): string {
  return path.resolve(repoRoot, '../shared', relative);
}
