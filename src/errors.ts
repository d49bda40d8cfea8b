/**
 * Every error a user sees, named by what the caller does with it: a config error stops the command
 * (exit 1); an input or output error fails one article (its status); a model or cache error is a run
 * problem, said once. Each message names the file, what is wrong and the fix.
 */
import path from 'node:path';
import type { ArticleReason } from './article.js';

export type InputErrorReason = Extract<ArticleReason, 'binary' | 'empty' | 'too-large' | 'unreadable' | 'no-article' | 'too-complex'>;

// Configuration

export interface ConfigIssue {
  /** Config file as the user named it, or the CLI flag the issue comes from. */
  file: string;
  /** 1-based; 0 when the issue has no position (a CLI flag, a missing file). */
  line: number;
  col: number;
  /** Dotted key path, e.g. `run.concurrency`, `output.formats[1]`; empty for the whole file. */
  path: string;
  /** What is wrong and what is accepted. */
  problem: string;
}

/** A config that cannot be used. `message` has one line per issue: `file:LINE:COL: path problem`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
  }
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : issue.file;
  return `${where}: ${issue.path ? `${issue.path} ` : ''}${issue.problem}`;
}

// Input

/** An article that cannot be read. The message names the file and the fix. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly path: string,
    readonly reason: InputErrorReason,
    message: string,
  ) {
    super(message);
  }
}

// Models

/** What a caller needs to name a model in a message: which one, and how to fix it. */
export interface ModelLabel {
  /** e.g. `Xenova/opus-mt-ar-en (ar)`. */
  name: string;
  /** The command (or instruction) that fixes a missing or corrupt model. */
  fix: string;
}

/**
 * A model that cannot be used: missing, corrupt or unloadable. One message says which model, where
 * it was looked for, which file is wrong, and the command that fixes it.
 */
export class ModelUnavailableError extends Error {
  override readonly name = 'ModelUnavailableError';

  constructor(
    readonly model: ModelLabel,
    readonly modelDir: string,
    /** The bad file relative to the model folder, when one file is to blame. */
    readonly file: string | null,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    const where = file ? path.join(modelDir, file) : `${modelDir}${path.sep}`;
    super(`model ${model.name} is unavailable: ${where} ${problem}. Fix: ${model.fix}`, options);
  }
}

/** A download that failed; the message names the URL, what went wrong and what to do. */
export class ModelDownloadError extends Error {
  override readonly name = 'ModelDownloadError';

  constructor(
    readonly url: string,
    message: string,
    readonly status?: number,
    /** Set when newsbridge cut the download: no data (stalled), too slow (deadline), or asked to stop. */
    readonly cutoff?: 'stalled' | 'deadline' | 'stopped',
    /** How long the server asked to wait before a retry (`Retry-After` of a 429 or 503), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

// Translation memory

/** The cache file cannot be used; the message names the file and the fix. */
export class CacheError extends Error {
  override name = 'CacheError';
}

/** Raised when the file is damaged, truncated or not an SQLite database; `detail` says what was found. */
export class CacheCorruptError extends CacheError {
  override name = 'CacheCorruptError';
  constructor(
    file: string,
    readonly detail: string,
  ) {
    super(
      `translation memory ${file} is damaged or not an SQLite database (${detail}); run \`newsbridge cache clear\` or delete the file (the cache is rebuilt on the next run)`,
    );
  }
}

// Output

/** Writing an output failed; the message names the file and the fix. Nothing was left half-written. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`cannot write ${path}: ${(cause as Error).message}; ${OutputError.fixFor(code)}`, { cause });
  }

  private static fixFor(code: string | undefined): string {
    switch (code) {
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return 'make the output directory writable or choose another with --output';
      case 'ENOTDIR':
      case 'EEXIST':
        return 'part of the output path is a file, not a directory; choose another output directory with --output';
      case 'ENOSPC':
      case 'EDQUOT':
        return 'free disk space and run again (finished articles are skipped)';
      default:
        return 'check the output directory and run again';
    }
  }
}

// Translation

/**
 * A backend throws this when the run was stopped (SIGINT/SIGTERM) before the sentences reached the
 * model; the article is then not finished at all rather than finished without its English.
 */
export class TranslationStoppedError extends Error {
  override readonly name = 'TranslationStoppedError';
  constructor() {
    super('translation stopped before this sentence reached the model');
  }
}
