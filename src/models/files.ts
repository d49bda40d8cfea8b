/** Size, sha256 and durable renames of the model store's files. */
import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** The file's size, or null when it does not exist. */
export async function fileSize(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Feeds the file's first `bytes` bytes (all of it when undefined) to `hash`. */
export async function hashFileInto(hash: Hash, file: string, bytes?: number): Promise<Hash> {
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(file, bytes === undefined ? {} : { end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash;
}

export async function sha256File(file: string): Promise<string> {
  return (await hashFileInto(createHash('sha256'), file)).digest('hex');
}

/** Makes a rename durable: the directory entry is synced, not only the file. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
