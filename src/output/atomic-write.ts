/**
 * Atomic file writes, the one way the project replaces a file: outputs, the run's own files and the
 * model store's manifest. A reader sees the old content or the whole new one, never part of it.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '../errors.js';

/** Temp files are `.<name>.<pid>.<8 hex>.tmp` beside their target (see `tempFileName`), so a later run can find leftovers. */
const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * Writes `data` to `path` so that `path` is either its old content or the whole new one, never part:
 * the data goes to a temp file in the same directory (same file system, so the rename is atomic),
 * is fsynced, then renamed over the target. On failure the temp file is removed.
 *
 * Written here rather than with `write-file-atomic` because that package names temp files with an
 * opaque hash suffix, and after a SIGKILL the runner must be able to recognise and remove them
 * (`removeStaleTempFiles`).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const directory = dirname(path);
  const temp = join(directory, tempFileName(basename(path)));
  let handle: FileHandle | undefined;
  try {
    await mkdir(directory, { recursive: true });
    handle = await open(temp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw new OutputError(path, (error as NodeJS.ErrnoException).code, error);
  }
}

/** The longest file name most file systems take (ext4, XFS, btrfs, APFS, tmpfs): 255 bytes, not characters. */
const NAME_MAX = 255;

/**
 * `.<name>.<pid>.<8 hex>.tmp`, with `<name>` cut (at a character boundary) so the whole fits in
 * NAME_MAX bytes whenever `name` does: the pid and the random part keep it unique.
 */
export function tempFileName(name: string): string {
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let budget = NAME_MAX - 1 - Buffer.byteLength(suffix);
  let kept = '';
  for (const char of name) {
    budget -= Buffer.byteLength(char);
    if (budget < 0) break;
    kept += char;
  }
  return `.${kept}${suffix}`;
}

/**
 * Removes temp files a killed run left under `directory`; returns their paths. Call it before a run
 * starts writing, never while another run writes into the same directory.
 */
export async function removeStaleTempFiles(directory: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { recursive: true, withFileTypes: true });
  } catch (error) {
    // No directory there (or a file in its place): no temp files either; writing will say what is wrong.
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return [];
    throw error;
  }
  const stale = entries.filter((entry) => entry.isFile() && TEMP_FILE.test(entry.name)).map((entry) => join(entry.parentPath, entry.name));
  await Promise.all(stale.map((path) => rm(path, { force: true })));
  return stale;
}
