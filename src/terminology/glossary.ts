import { readFile } from 'node:fs/promises';
import { CsvError, parse } from 'csv-parse/sync';

/**
 * A newsroom glossary: one file per source language, a row per term (source term, English term, and
 * optionally `ignore-case`), TSV or CSV, `#` comments, an optional `source,target` header. Parsed
 * with csv-parse rather than by hand: quoted fields with commas, tabs or doubled quotes are its job.
 */

export interface GlossaryEntry {
  /** The term as the source language writes it. */
  source: string;
  /** The English the output must carry. */
  target: string;
  /** Whether an English spelled otherwise (`kishida` for `Kishida`) still counts as the term. */
  ignoreCase: boolean;
  /** 1-based line of the file, for messages. */
  line: number;
}

export interface Glossary {
  /** The file as the user named it. */
  name: string;
  entries: GlossaryEntry[];
}

/** A glossary file that cannot be used; the message is `file:line: problem; fix`. */
export class GlossaryError extends Error {
  override readonly name = 'GlossaryError';
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${line > 0 ? `${file}:${line}` : file}: ${problem}`);
  }
}

/** DeepL's limit per glossary entry: a longer "term" is a sentence, which a glossary is not for. */
const MAX_TERM_BYTES = 1024;
const HEADER = /^(source|term|src)$/iu;

/** Reads and parses a glossary file; a missing or malformed file throws `GlossaryError`. */
export async function loadGlossary(file: string): Promise<Glossary> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new GlossaryError(file, 0, `cannot read the glossary (${error.code ?? error.message}); check the path`);
  });
  return parseGlossary(text, file);
}

/** Parses glossary text; `name` is used in messages. Tab-separated when the first data line has a tab, else CSV. */
export function parseGlossary(text: string, name: string): Glossary {
  const firstData = text.split('\n').find((line) => line.trim() !== '' && !line.trimStart().startsWith('#')) ?? '';
  const delimiter = firstData.includes('\t') ? '\t' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text.replace(/^\uFEFF/u, ''), {
      delimiter,
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
      // TSV glossaries write quotes as they are (DeepL's format); only CSV quotes fields.
      quote: delimiter === ',' ? '"' : false,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    if (error instanceof CsvError)
      throw new GlossaryError(
        name,
        Number((error as { lines?: number }).lines ?? 0),
        `${error.message.replace(/ at line \d+/u, '')}; fix the quoting`,
      );
    throw error;
  }
  const entries: GlossaryEntry[] = [];
  records.forEach(({ record, info }, index) => {
    if (index === 0 && HEADER.test(record[0] ?? '')) return;
    entries.push(entryOf(record, info.lines, name));
  });
  return { name, entries };
}

function entryOf(record: string[], line: number, file: string): GlossaryEntry {
  const [source = '', target = '', option = ''] = record;
  if (record.length > 3)
    throw new GlossaryError(file, line, `${record.length} columns; a row is: source term, English term[, ignore-case]`);
  if (source === '' || target === '') throw new GlossaryError(file, line, 'a row needs a source term and an English term');
  if (option !== '' && option !== 'ignore-case')
    throw new GlossaryError(file, line, `unknown option "${option}"; the third column may only be "ignore-case"`);
  for (const term of [source, target])
    if (Buffer.byteLength(term) > MAX_TERM_BYTES)
      throw new GlossaryError(file, line, `a term longer than ${MAX_TERM_BYTES} bytes; a glossary holds terms, not sentences`);
  return { source, target, ignoreCase: option === 'ignore-case', line };
}
