import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { defaultConfig, type PipelineConfig } from '../config/config.js';
import { InputError } from '../errors.js';
import { sidecarFor } from '../fetch/saved-page.js';
import { htmlReader } from './html-reader.js';
import { articleId } from './article-ids.js';
import type { ExtractedPages } from './extracted-pages.js';
import { readPageInWorker } from './extraction-pool.js';
import type { ArticleFile, ReadArticle } from './read.js';
import type { ArticleReader, ReaderFile } from './reader.js';
import { textReader } from './text-reader.js';

/** In order: the first reader that takes a file's name reads it; the text reader takes the rest. */
const READERS: readonly ArticleReader[] = [htmlReader, textReader];

export function readerFor(path: string): ArticleReader {
  return READERS.find((reader) => reader.handles(path)) ?? textReader;
}

/**
 * The real paths of the folders articles may be read from: the input roots, symlinks resolved. A
 * root that does not exist has no articles and is left out.
 */
export async function realInputRoots(files: readonly ArticleFile[], cwd: string = process.cwd()): Promise<string[]> {
  const roots = new Set(files.map((file) => resolve(cwd, file.inputRoot)));
  const real = await Promise.all([...roots].map((root) => realpath(root).catch(() => null)));
  return real.filter((root): root is string => root !== null);
}

function isInside(file: string, folder: string): boolean {
  const relativePath = relative(folder, file);
  return relativePath !== '' && !relativePath.startsWith(`..${sep}`) && relativePath !== '..' && !isAbsolute(relativePath);
}

export interface ReadOptions {
  /** `input.html`: a page's limits and extraction deadline; the defaults when absent. */
  html?: PipelineConfig['input']['html'];
  /** Stops a page's extraction at once; the read then rejects with `ReadStoppedError`. */
  signal?: AbortSignal;
  /** Keep what a page gave here (the corpus pass), for `takeFrom` later in the run. */
  keepIn?: ExtractedPages;
  /** Take a page's reading from here if these bytes were read before in the run. */
  takeFrom?: ExtractedPages;
}

/**
 * Reads one article from disk, at most `maxBytes` of it (a file that grows past the limit while being
 * read is still refused), and hands it to the reader for its format. With `roots` (real paths, see
 * `realInputRoots`), a file whose real path lies outside all of them — a symlink out of the input
 * folders — is refused instead. Anything but a regular file is refused without reading it: the file
 * is opened non-blocking, so a FIFO (or a device) cannot hang the run. A web page is read in a worker
 * thread with a deadline (see extraction-pool.ts).
 */
export async function readArticleFile(
  path: string,
  inputRoot: string,
  maxBytes: number,
  roots: readonly string[] | null = null,
  options: ReadOptions = {},
): Promise<ReadArticle> {
  let handle: FileHandle | undefined;
  let bytes: Buffer;
  try {
    const real = await realpath(path);
    if (roots && !roots.some((root) => isInside(real, root))) {
      throw new InputError(
        path,
        'unreadable',
        `${path}: links to ${real}, outside the input folders, so it is not read; move the file into the input folder, or set input.followOutsideSymlinks: true`,
      );
    }
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const kind = stats.isFIFO()
        ? 'a named pipe (FIFO)'
        : stats.isSocket()
          ? 'a socket'
          : stats.isDirectory()
            ? 'a directory'
            : 'a device';
      throw new InputError(
        path,
        'unreadable',
        `${path}: not a regular file but ${kind}; remove it or narrow input.patterns to article files`,
      );
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
  const reader = readerFor(path);
  const { html = defaultConfig.input.html } = options;
  const file: ReaderFile = { path, id: articleId(path, inputRoot), maxBytes, limits: html };
  if (reader !== htmlReader) return reader.read(bytes, file);
  // A page `newsbridge fetch` saved is read with the charset it was served with, and says where it came from.
  const saved = await sidecarFor(path, bytes);
  if (saved) file.fetched = { url: saved.url, feed: saved.feed, feedDate: saved.feedDate, charset: saved.charset };
  const kept = options.takeFrom?.take(path, bytes);
  if (kept) return kept;
  const reading = readPageInWorker(bytes, file, { deadlineSeconds: html.extractSeconds, signal: options.signal });
  return options.keepIn ? options.keepIn.keep(path, bytes, reading) : reading;
}

/**
 * Whether `path` still holds the bytes that hashed to `sha256` when it was read: false when they changed, or the file is
 * gone, unreadable, over `maxBytes` or no longer a regular file. Opened as `readArticleFile` opens it, so a named pipe
 * put in its place cannot hang the check.
 */
export async function stillHolds(path: string, sha256: string, maxBytes: number): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > maxBytes) return false;
    const bytes = await readAtMost(handle, maxBytes + 1, stats.size + 1);
    return createHash('sha256').update(bytes).digest('hex') === sha256;
  } catch {
    return false;
  } finally {
    await handle?.close().catch(() => undefined);
  }
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
