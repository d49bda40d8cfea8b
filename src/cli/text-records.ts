import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { writeLine } from './printable.js';

/** A JSON object (not an array or null), said as the messages of the `--jsonl` commands say it. */
export const jsonObject = z.record(z.string(), z.unknown(), { error: 'is not a JSON object' });

/** One `--jsonl` input line of the single-stage analysis commands (`detect`, `segment`). */
const textRecordSchema = jsonObject.pipe(
  z.object({
    id: z.unknown().refine((id) => id !== undefined, 'has no "id"'),
    text: z.string({ error: 'needs "text" (a string)' }),
    lang: z.string({ error: '"lang" must be a string such as "vi"' }).optional(),
  }),
);
export type TextRecord = z.infer<typeof textRecordSchema>;

/** How a `--jsonl` command checks its input lines. */
export interface JsonLinesFormat<R> {
  /** A usable record; each issue's message says what is wrong with the line. */
  schema: z.ZodType<R>;
  /** The expected shape, as the warning about a bad line shows it. */
  expected: string;
}

/**
 * Reads JSON lines and writes one JSON line per record, in input order. A line that is not a usable
 * record is reported through `warn` with its line number and skipped; the run goes on. Returns how
 * many lines were skipped.
 */
export async function mapJsonLines<R>(
  input: Readable,
  format: JsonLinesFormat<R>,
  handle: (record: R) => object,
  write: (line: string) => void,
  warn: (message: string) => void,
): Promise<number> {
  let lineNumber = 0;
  let bad = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      bad++;
      warn(`stdin:${lineNumber}: not valid JSON (${(error as Error).message}); each line must be one object like {"id": 1, "text": "…"}`);
      continue;
    }
    const record = format.schema.safeParse(value);
    if (!record.success) {
      bad++;
      warn(`stdin:${lineNumber}: the object ${record.error.issues[0]?.message}; expected ${format.expected}`);
      continue;
    }
    write(JSON.stringify(handle(record.data)));
  }
  return bad;
}

/** `mapJsonLines` over `{"id", "text"}` records (`detect`, `segment`). */
export function mapTextRecords(
  input: Readable,
  handle: (record: TextRecord) => object,
  write: (line: string) => void,
  warn: (message: string) => void,
): Promise<number> {
  return mapJsonLines(input, { schema: textRecordSchema, expected: '{"id": …, "text": "…"}' }, handle, write, warn);
}

/** How one analysis command (`detect`, `segment`, `summarize`) reads stdin and answers. */
export interface TextCommand<S> {
  /** Loads what the command needs; an error here is a usage or config error (exit 1). */
  setup(): Promise<S>;
  /** `--jsonl`: maps the JSON lines of `input`; returns how many lines were bad (exit 2 if any). */
  jsonLines(state: S, input: Readable, write: (line: string) => void, warn: (message: string) => void): Promise<number>;
  /** Plain text on stdin: the lines to print. */
  text(state: S, text: string): string[];
}

/** Runs an analysis command on stdin/stdout, with its exit codes: 0 ok, 1 usage or config, 2 bad lines. */
export async function runTextCommand<S>(name: string, jsonl: boolean | undefined, command: TextCommand<S>): Promise<void> {
  let state: S;
  try {
    state = await command.setup();
  } catch (error) {
    writeLine(process.stderr, `newsbridge ${name}: ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  if (jsonl) {
    const write = (line: string) => writeLine(process.stdout, line);
    const bad = await command.jsonLines(state, process.stdin, write, (message) =>
      writeLine(process.stderr, `newsbridge ${name}: ${message}`),
    );
    if (bad > 0) process.exitCode = 2;
    return;
  }
  for (const line of command.text(state, await readAll(process.stdin))) process.stdout.write(`${line}\n`);
}

async function readAll(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
