import { decodeArticle } from './read.js';
import type { ArticleReader } from './reader.js';

/** Plain text in any of the encodings `decodeArticle` detects; it takes every file no other reader does. */
export const textReader: ArticleReader = {
  format: 'text',
  handles: () => true,
  read: (bytes, file) => decodeArticle(bytes, file.path, file.id),
};
