import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { htmlReader } from './html-reader.js';
import { articleId, type ReadArticle } from './read.js';
import type { ArticleReader } from './reader.js';
import { textReader } from './text-reader.js';

/** In order: the first reader that takes a file's name reads it; the text reader takes the rest. */
const READERS: readonly ArticleReader[] = [htmlReader, textReader];

export function readerFor(path: string): ArticleReader {
  return READERS.find((reader) => reader.handles(path)) ?? textReader;
}

/**
 * Reads one article from disk, at most `maxBytes` of it (a file that grows past the limit while being
 * read is still refused), and hands it to the reader for its format.
 */
export async function readArticleFile(path: string, inputRoot: string, maxBytes: number): Promise<ReadArticle> {
  let handle: FileHandle | undefined;
  let bytes: Buffer;
  try {
    handle = await open(path, 'r');
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new InputError(path, 'unreadable', `${path}: not a regular file; narrow input.patterns to article files`);
    }
    if (stats.size > maxBytes) throw tooLarge(path, stats.size, maxBytes);
    bytes = await readAtMost(handle, maxBytes + 1, stats.size + 1);
    if (bytes.length > maxBytes) throw tooLarge(path, bytes.length, maxBytes);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw unreadable(path, error as NodeJS.ErrnoException);
  } finally {
    await handle?.close().catch(() => undefined);
  }
  return readerFor(path).read(bytes, { path, id: articleId(path, inputRoot), maxBytes });
}

/** `expected` sizes the first read (the size from stat, plus one byte to see the end of the file). */
async function readAtMost(handle: FileHandle, limit: number, expected: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.alloc(Math.min(limit - total, total === 0 ? expected : 64 * 1024));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(path: string, size: number, maxBytes: number): InputError {
  return new InputError(
    path,
    'too-large',
    `${path}: ${size} bytes is over input.maxBytes (${maxBytes}); raise input.maxBytes in pipeline.yaml or split the article`,
  );
}

function unreadable(path: string, error: NodeJS.ErrnoException): InputError {
  const fixes: Record<string, string> = {
    ENOENT: 'it does not exist (deleted or moved after it was listed, or a dangling symlink)',
    EACCES: 'permission denied; make it readable (chmod +r) or remove it from the input',
    EPERM: 'permission denied; make it readable (chmod +r) or remove it from the input',
    ELOOP: 'it is a symlink loop; remove the link',
    EISDIR: 'it is a directory; narrow input.patterns to article files',
  };
  const fix = (error.code && fixes[error.code]) ?? `${error.message}; check the file and run again`;
  return new InputError(path, 'unreadable', `${path}: cannot be read: ${fix}`);
}
