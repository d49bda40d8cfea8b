import path from 'node:path';
import { repoRoot } from '../tools/repo-root.js';

/** The repository root, whatever the working directory. */

/** A path inside the shared data folder that sits beside the repository (`../shared`). */
export function sharedPath(relative: string): string {
  return path.resolve(repoRoot, '../shared', relative);
}
