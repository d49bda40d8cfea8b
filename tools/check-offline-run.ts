import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { manifestLineSchema } from '../src/output/schema.js';
import { runReportSchema } from '../src/run/report.js';

/**
 * `.ci/run`'s check of the sample run with no models (`newsbridge run --offline`): exit code 2 also
 * covers `stage-error` and `output-error`, so the run's own records must show that every article was
 * written and is `partial` for `model-unavailable` only, and that none was left out.
 * `tsx tools/check-offline-run.ts OUTPUT_DIR`: exits 1 listing each article that is not.
 */

/** What is wrong with the run whose outputs are in `outputDir`; empty when every article is `partial` / `model-unavailable`. */
export async function offlineRunProblems(outputDir: string): Promise<string[]> {
  const reportPath = path.join(outputDir, 'run-report.json');
  const manifestPath = path.join(outputDir, 'manifest.jsonl');
  const report = runReportSchema.parse(JSON.parse(await readFile(reportPath, 'utf8')));
  const manifest = (await readFile(manifestPath, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => manifestLineSchema.parse(JSON.parse(line)));

  const problems: string[] = [];
  const total = report.articles.total;
  if (total === 0) problems.push(`${reportPath}: the run found no articles`);
  if (report.interrupted) problems.push(`${reportPath}: the run was interrupted (${report.articles.notStarted} not started)`);
  if (!isDeepStrictEqual(report.reasons, { 'model-unavailable': total })) {
    const reasons = Object.fromEntries(Object.entries(report.reasons).sort(([a], [b]) => a.localeCompare(b)));
    problems.push(`${reportPath}: reasons ${JSON.stringify(reasons)}, expected {"model-unavailable":${total}}`);
  }
  if (manifest.length !== total) problems.push(`${manifestPath}: ${manifest.length} lines for ${total} articles`);
  for (const line of manifest) {
    if (line.status !== 'partial' || line.reason !== 'model-unavailable' || !line.outputs.json) {
      const written = line.outputs.json ? '' : ', no outputs written';
      problems.push(
        `${manifestPath}: ${line.id} (${line.source}) is ${line.status}${line.reason ? ` / ${line.reason}` : ''}${written}, expected partial / model-unavailable`,
      );
    }
  }
  return problems;
}

async function main(outputDir: string | undefined): Promise<void> {
  if (!outputDir) {
    console.error('usage: tsx tools/check-offline-run.ts OUTPUT_DIR');
    process.exit(1);
  }
  const problems = await offlineRunProblems(outputDir);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
  console.log(`${outputDir}: every article is partial / model-unavailable`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv[2]);
