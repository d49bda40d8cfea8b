/** The repository's root folder, for the tools, benchmarks and tests that read or write beside the code. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
