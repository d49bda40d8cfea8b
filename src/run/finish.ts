/** The end of a run, embedded or on the queue: the manifest, the digest and the run report. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PipelineConfig } from '../config/config.js';
import type { IdentifiedFile } from '../input/article-ids.js';
import type { NotListed } from '../input/list-files.js';
import { writeFileAtomic } from '../output/atomic-write.js';
import { DIGEST_FILE, digestEntryFromManifest, renderDigestHtml, type DigestEntry } from '../output/digest.js';
import { manifestLineSchema } from '../output/schema.js';
import type { ModelUsage } from '../translation/backend.js';
import { buildRunReport, type ArticleOutcome, type RunReport } from './report.js';

/** A run whose articles are done (or that was stopped), as `finishRun` needs it. */
export interface FinishedRun {
  config: PipelineConfig;
  startedAt: Date;
  /** Every article listed, in input order. */
  files: readonly IdentifiedFile[];
  /** What the patterns matched but the listing left out. */
  notListed?: NotListed;
  /** By index into `files`; holes for articles an interrupted run never finished. */
  outcomes: readonly ArticleOutcome[];
  manifest: readonly string[];
  /** The digest's entries by index, where the run made them; the others come from manifest lines. */
  digest?: readonly (DigestEntry | undefined)[];
  usage: ModelUsage;
  problems: string[];
  problem(message: string): void;
  jsonl?: NodeJS.WritableStream;
}

/**
 * Writes `manifest.jsonl` and `run-report.json` (unless the records went to `--jsonl`) and returns
 * the run report; the embedded runner and a run on the queue end alike.
 */
export async function finishRun(run: FinishedRun): Promise<RunReport> {
  const { config, files, outcomes, manifest, problems, problem } = run;
  const outputDir = config.output.dir;
  const finished = outcomes.filter(Boolean);
  // An output directory that cannot be written fails every article already; the run still reports.
  const writeRunFile = (name: string, text: () => string) =>
    writeFileAtomic(path.join(outputDir, name), text()).catch((error: Error) => problem(error.message));
  // A run that processed nothing (no input matched, stopped before the first article) has nothing
  // to say about the articles on disk: the manifest and the digest stay as they were.
  const listsArticles = !run.jsonl && finished.length > 0;
  // An interrupted run keeps the previous run's lines for the articles it never started, so the
  // manifest (and the digest) still list every article whose outputs are on disk.
  const previous = listsArticles && finished.length < files.length ? await previousManifest(outputDir) : new Map<string, string>();
  if (listsArticles) {
    const lines = files.map((file, index) => manifest[index] ?? previous.get(file.id));
    await writeRunFile('manifest.jsonl', () => lines.filter(Boolean).join(''));
  }
  const report = buildRunReport({
    startedAt: run.startedAt,
    finishedAt: new Date(),
    listed: files.length,
    ...(run.notListed ? { notListed: run.notListed } : {}),
    outcomes: finished,
    ...run.usage,
    problems,
    interrupted: finished.length < files.length,
  });
  if (!run.jsonl) {
    if (listsArticles && config.output.formats.includes('html')) {
      // A queue run has no digest entries of its own: its articles' manifest lines say the same.
      const entries = files.flatMap((file, index) => {
        const line = manifest[index] ?? previous.get(file.id);
        return run.digest?.[index] ?? (line ? [digestEntryFromManifest(manifestLineSchema.parse(JSON.parse(line)))] : []);
      });
      await writeRunFile(DIGEST_FILE, () => renderDigestHtml({ report, entries }));
    }
    await writeRunFile('run-report.json', () => `${JSON.stringify(report, null, 2)}\n`);
    // Said after the report was built, so the returned report is the one place that has it.
    report.problems = [...problems];
  }
  return report;
}

/** The lines of the manifest an earlier run left, by article id; empty when there is none. */
async function previousManifest(outputDir: string): Promise<Map<string, string>> {
  const lines = new Map<string, string>();
  const text = await readFile(path.join(outputDir, 'manifest.jsonl'), 'utf8').catch(() => '');
  for (const line of text.split('\n').filter(Boolean)) {
    try {
      const parsed = manifestLineSchema.safeParse(JSON.parse(line));
      if (parsed.success) lines.set(parsed.data.id, `${line}\n`);
    } catch {
      // A damaged line names no article it could stand for.
    }
  }
  return lines;
}
