import { isDeepStrictEqual } from 'node:util';
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DIGEST_FILE } from '../src/output/digest.js';
import { HOLDER_FILE } from '../src/run/output-lock.js';

/**
 * Compares two output directories of `newsbridge run` the way the crash harness needs: the same
 * files, each the same apart from timing fields, and nothing else (no temp or partial files).
 * `run-report.json` and the digest `index.html` describe one run, not the outputs, so they are left out.
 */

export interface OutputDifference {
  /** Path relative to the output directory. */
  file: string;
  problem: string;
}

/** Fields that measure how long something took or when it ran; they differ between any two runs. */
const TIMING_KEYS = new Set([
  'timings',
  'durationMs',
  'startedAt',
  'finishedAt',
  'stageMs',
  'articlesPerSecond',
  'sentencesTranslatedPerSecond',
]);

/** Files about the run itself: its timings, its statuses (`skipped` after a resume), its problems. */
const RUN_FILES = new Set(['run-report.json', DIGEST_FILE]);
const MANIFEST = 'manifest.jsonl';

/**
 * Every file below `dir`, relative to it, symlinks and all; none when `dir` does not exist. The run's
 * lock on the folder is not an output (a killed run leaves it for the next one to take over). A live
 * run's folder changes while it is listed: a folder that vanishes mid-walk (the lock, released) is skipped.
 */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (folder: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name !== HOLDER_FILE) files.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return files.sort();
}

/** A copy of a parsed JSON value without its timing fields. */
export function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !TIMING_KEYS.has(key))
      .map(([key, inner]) => [key, withoutTimings(inner)]),
  );
}

export interface CompareOptions {
  /**
   * Outputs of an interrupted run: files and manifest lines may be missing, but whatever is there
   * must be complete and equal to the uninterrupted run's.
   */
  allowMissing?: boolean;
}

export function compareOutputs(expectedDir: string, actualDir: string, options: CompareOptions = {}): OutputDifference[] {
  const expected = new Set(listFiles(expectedDir).filter((file) => !RUN_FILES.has(file)));
  const actual = listFiles(actualDir).filter((file) => !RUN_FILES.has(file));
  const differences: OutputDifference[] = [];
  for (const file of actual) {
    if (!expected.has(file)) differences.push({ file, problem: 'not in the uninterrupted run (a temporary or stray file)' });
  }
  for (const file of expected) {
    if (!actual.includes(file)) {
      if (!options.allowMissing) differences.push({ file, problem: 'missing' });
      continue;
    }
    const problem = compareFile(file, path.join(expectedDir, file), path.join(actualDir, file), options);
    if (problem) differences.push({ file, problem });
  }
  return differences;
}

function compareFile(file: string, expectedPath: string, actualPath: string, options: CompareOptions): string | null {
  const expectedText = readFileSync(expectedPath, 'utf8');
  const actualText = readFileSync(actualPath, 'utf8');
  if (file === MANIFEST || file.endsWith(`${path.sep}${MANIFEST}`)) return compareManifest(expectedText, actualText, options);
  if (file.endsWith('.json')) {
    let actual: unknown;
    try {
      actual = JSON.parse(actualText);
    } catch (error) {
      return `not valid JSON (${(error as Error).message}): a partial write?`;
    }
    const at = firstDifference(withoutTimings(JSON.parse(expectedText)), withoutTimings(actual), '');
    return at === null ? null : `differs at ${at || '(root)'}`;
  }
  if (expectedText === actualText) return null;
  const line = expectedText.split('\n').findIndex((text, index) => text !== actualText.split('\n')[index]);
  return `differs from line ${line + 1}`;
}

/**
 * Manifest lines may come in any order (articles finish in any order), but each id once. A line of
 * an article a resumed run skipped says `skipped` / `up-to-date` where the run that wrote its outputs
 * said how it went; that describes the run, so those two fields are not compared.
 */
function compareManifest(expectedText: string, actualText: string, options: CompareOptions): string | null {
  const parse = (text: string) =>
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ManifestRecord);
  let actual: ManifestRecord[];
  try {
    actual = parse(actualText);
  } catch (error) {
    return `a line is not valid JSON (${(error as Error).message}): a partial write?`;
  }
  const expected = new Map(parse(expectedText).map((line) => [line.id, line]));
  const seen = new Set<string>();
  for (const line of actual) {
    if (seen.has(line.id)) return `article ${line.id} is listed more than once`;
    seen.add(line.id);
    const reference = expected.get(line.id);
    if (!reference) return `article ${line.id} is not in the uninterrupted run`;
    const skipped = line.status === 'skipped' && line.reason === 'up-to-date';
    const comparable = (record: ManifestRecord) => (skipped ? withoutRunStatus(record) : record);
    const at = firstDifference(withoutTimings(comparable(reference)), withoutTimings(comparable(line)), '');
    if (at !== null) return `article ${line.id} differs at ${at}`;
    // A skipped line carries the status of the outputs it kept: that is the reference run's status.
    if (skipped && (line.output?.status !== reference.status || line.output?.reason !== reference.reason)) {
      return `article ${line.id} differs at output (skipped over ${JSON.stringify(line.output)}, the outputs are ${reference.status}${reference.reason ? `/${reference.reason}` : ''})`;
    }
  }
  const missing = [...expected.keys()].filter((id) => !seen.has(id));
  return missing.length === 0 || options.allowMissing ? null : `articles missing: ${missing.join(', ')}`;
}

interface ManifestRecord {
  id: string;
  status?: string;
  reason?: string;
  output?: { status: string; reason?: string };
}

function withoutRunStatus(record: ManifestRecord): Omit<ManifestRecord, 'status' | 'reason' | 'output'> {
  const { status: _status, reason: _reason, output: _output, ...rest } = record;
  return rest;
}

/** JSON path of the first place where two values differ, or null when they are equal. */
function firstDifference(expected: unknown, actual: unknown, at: string): string | null {
  if (isDeepStrictEqual(expected, actual)) return null;
  if (expected === null || actual === null || typeof expected !== 'object' || typeof actual !== 'object') return at;
  if (Array.isArray(expected) !== Array.isArray(actual)) return at;
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    const inner = firstDifference(
      (expected as Record<string, unknown>)[key],
      (actual as Record<string, unknown>)[key],
      Array.isArray(expected) ? `${at}[${key}]` : at ? `${at}.${key}` : key,
    );
    if (inner !== null) return inner;
  }
  return at;
}
