import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { aliasExpansionIssue, configIssueAt, syntaxIssues } from './issues.js';
import { configSchema, defaultConfig, type PipelineConfig } from './schema.js';

/** Reading `pipeline.yaml`: the file, its YAML, and the config it validates to. */

export const DEFAULT_CONFIG_FILE = 'pipeline.yaml';

/**
 * Reads and validates a config file. Without `path`, `pipeline.yaml` in the working directory is
 * used when it exists and the defaults otherwise; a `path` that does not exist is an error.
 */
export async function loadConfig(path?: string): Promise<{ config: PipelineConfig; path: string | null }> {
  const name = path ?? DEFAULT_CONFIG_FILE;
  const absolute = resolve(name);
  let text: string;
  try {
    if ((await stat(absolute)).isDirectory()) {
      throw new ConfigError([{ file: name, line: 0, col: 0, path: '', problem: 'is a directory; accepted: a YAML file' }]);
    }
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && path === undefined) {
      return { config: defaultConfig, path: null };
    }
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (error as Error).message;
    throw new ConfigError([
      { file: name, line: 0, col: 0, path: '', problem: `cannot be read (${reason}); pass an existing file to --config` },
    ]);
  }
  return { config: parseConfig(text, name), path: absolute };
}

/** Parses and validates config text; `file` names it in error messages. */
export function parseConfig(text: string, file: string = DEFAULT_CONFIG_FILE): PipelineConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(syntaxIssues(doc, file));
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // yaml refuses aliases that expand past a limit (a "billion laughs" file); anything else is a bug.
    if (!(error instanceof ReferenceError)) throw error;
    throw new ConfigError([aliasExpansionIssue(doc, lineCounter, file, error)]);
  }
  const result = configSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => configIssueAt(issue, doc, lineCounter, file));
  throw new ConfigError(issues.sort((a, b) => a.line - b.line || a.col - b.col));
}
