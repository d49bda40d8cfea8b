/**
 * The crash harness: proves that killing `newsbridge run` at any moment loses and corrupts nothing.
 *
 *   npm run test:crash -- [--n 12] [--kills 12] [--seed 1] [--corpus DIR]... [--work DIR] [--keep]
 *
 * 1. Generates a small corpus (the sample articles in input/ recombined; `--corpus` adds folders,
 *    e.g. ../shared/data/news/vi-dantri) and runs the pipeline on it once, uninterrupted, with the
 *    generated tiny models: the reference.
 * 2. Runs it again into another output folder and cache, SIGKILLing it again and again — at seeded
 *    random moments within the reference run's length, and, every third kill, the moment a temp
 *    file shows up in the output folder (mid-write) — restarting it after each kill as a nightly job
 *    would (no --force; a run that finishes starts a new round with --force).
 * 3. After each kill, whatever is in the output folder must be complete and equal to the reference.
 *    At the end, after a final run: every output equals the reference apart from timing fields, no
 *    temporary file is left, a rerun makes no model calls, and the cache passes
 *    `PRAGMA integrity_check` and holds the same translations as the reference's.
 * 4. SIGINT and SIGTERM in the middle of a run: exit code 130/143, the run report says the run was
 *    interrupted and counts the articles done, those articles' outputs are complete, and a resumed
 *    run completes the rest.
 *
 * Prints a pass/fail line per check and exits 1 if any failed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Command, InvalidArgumentError } from 'commander';
import { TranslationMemory } from '../src/translation/memory.js';
import { compareOutputs, listFiles, type OutputDifference } from './compare-outputs.js';
import { seededRandom, writeCorpus } from './corpus.js';
import { startNewsbridge, writeRunConfig, type NewsbridgeRun, type StartedRun } from './newsbridge-process.js';
import { repoRoot } from './repo-root.js';
import { ensureTestModels } from './test-models.js';

interface HarnessOptions {
  n: number;
  kills: number;
  seed: number;
  corpus: string[];
  work?: string;
  keep: boolean;
}

/** One output folder and translation memory, with the config that points the pipeline at them. */
interface Variant {
  name: string;
  config: string;
  out: string;
  cache: string;
}

interface Kill {
  trigger: 'random' | 'mid-write';
  afterMs: number;
  /** Article JSON outputs present when the process died. */
  outputs: number;
  tempFiles: number;
  /** The last thing the run logged (its `--verbose` log), as a hint of the stage it was in. */
  lastLog: string;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const TEMP_FILE = /(^|\/)\.[^/]+\.\d+\.[0-9a-f]{8}\.tmp$/;
const EXIT_ON = { SIGINT: 130, SIGTERM: 143 } as const;
/** Longest a stopped run may take to finish its in-flight articles. */
const GRACEFUL_TIMEOUT_MS = 120_000;

const checks: Check[] = [];

function check(name: string, ok: boolean, detail = ''): boolean {
  checks.push({ name, ok, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

function describeDifferences(differences: OutputDifference[]): string {
  if (differences.length === 0) return 'no differences';
  const shown = differences.slice(0, 5).map((d) => `${d.file}: ${d.problem}`);
  return `${differences.length} difference(s): ${shown.join('; ')}${differences.length > 5 ? '; …' : ''}`;
}

function makeVariant(work: string, name: string, inputDir: string, modelsDir: string): Variant {
  const dir = path.join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const variant = { name, config: path.join(dir, 'pipeline.yaml'), out: path.join(dir, 'output'), cache: path.join(dir, 'cache.sqlite') };
  // fp32, not the default q8: q8 models quantize activations with one scale per batch, so a
  // sentence's translation depends on which sentences share its batch, and a resumed run batches
  // differently. fp32 translations are batch-independent, so outputs can be compared exactly.
  writeRunConfig(variant.config, { inputDir, out: variant.out, cache: variant.cache, modelsDir, dtype: 'fp32' });
  return variant;
}

function runArgs(variant: Variant, force = false): string[] {
  return ['run', '--config', variant.config, '--offline', '--verbose', ...(force ? ['--force'] : [])];
}

function articleOutputs(files: readonly string[]): number {
  return files.filter((file) => file.endsWith('.json') && file !== 'run-report.json' && !TEMP_FILE.test(file)).length;
}

function lastLogLine(stderr: string): string {
  const line = stderr.trimEnd().split('\n').at(-1) ?? '';
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    return [record.stage, record.id, record.msg].filter((part) => part !== undefined).join(' ');
  } catch {
    return line.slice(0, 80);
  }
}

function readReport(variant: Variant): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path.join(variant.out, 'run-report.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the run if it exits first, or null once `predicate` holds (checked every `everyMs`). */
async function waitFor(run: StartedRun, predicate: () => boolean, everyMs: number, limitMs = Infinity): Promise<NewsbridgeRun | null> {
  let exited: NewsbridgeRun | null = null;
  void run.done.then((result) => (exited = result));
  const started = performance.now();
  while (exited === null) {
    if (predicate() || performance.now() - started > limitMs) return null;
    await sleep(everyMs);
  }
  return exited;
}

async function killRun(run: StartedRun, variant: Variant, trigger: Kill['trigger'], started: number): Promise<Kill> {
  const files = listFiles(variant.out);
  run.child.kill('SIGKILL');
  const result = await run.done;
  return {
    trigger,
    afterMs: Math.round(performance.now() - started),
    outputs: articleOutputs(files),
    tempFiles: files.filter((file) => TEMP_FILE.test(file)).length,
    lastLog: lastLogLine(result.stderr),
  };
}

async function crashLoop(
  options: HarnessOptions,
  reference: Variant,
  referenceRun: NewsbridgeRun,
  crash: Variant,
  startupMs: number,
): Promise<{ kills: Kill[]; completedRuns: number }> {
  const random = seededRandom(options.seed);
  const kills: Kill[] = [];
  let completedRuns = 0;
  let force = false;
  let cold = false;
  while (kills.length < options.kills) {
    if (cold) TranslationMemory.remove(crash.cache);
    const started = performance.now();
    const run = startNewsbridge(runArgs(crash, force));
    const trigger: Kill['trigger'] = kills.length % 3 === 2 ? 'mid-write' : 'random';
    const delay = startupMs + random() * (referenceRun.wallMs - startupMs);
    const exited =
      trigger === 'random'
        ? await waitFor(run, () => performance.now() - started >= delay, 5)
        : await waitFor(run, () => listFiles(crash.out).some((file) => file.includes(`.${run.child.pid}.`) && TEMP_FILE.test(file)), 1);
    if (exited) {
      // The run finished before the kill: start a new round that redoes everything.
      completedRuns += 1;
      if (exited.code !== referenceRun.code) {
        check(`a run between kills exits like the reference`, false, `exit ${exited.code}`);
        console.error(exited.stderr.slice(-2000));
      }
      force = true;
      cold = !cold;
      continue;
    }
    const kill = await killRun(run, crash, trigger, started);
    kills.push(kill);
    console.log(
      `kill ${String(kills.length).padStart(2)}: ${trigger.padEnd(9)} after ${String(kill.afterMs).padStart(6)} ms, ${kill.outputs} article outputs, ${kill.tempFiles} temp files; last log: ${kill.lastLog}`,
    );
    const broken = compareOutputs(reference.out, crash.out, { allowMissing: true }).filter((d) => !TEMP_FILE.test(d.file));
    if (broken.length > 0) check(`outputs after kill ${kills.length} are complete`, false, describeDifferences(broken));
    force = false;
    cold = false;
  }
  return { kills, completedRuns };
}

function cacheRows(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare<[], { key: string; value: string }>(
        `SELECT json_array(m.id, m.revision, m.dtype, m.fingerprint, t.source) AS key, json_array(t.target, t.flags) AS value
         FROM translations t JOIN models m ON m.key = t.model`,
      )
      .all();
    return new Map(rows.map((row) => [row.key, row.value]));
  } finally {
    db.close();
  }
}

function checkCache(reference: Variant, crash: Variant): void {
  const db = new Database(crash.cache);
  const integrity = db.pragma('integrity_check', { simple: true });
  db.close();
  check('the cache passes PRAGMA integrity_check', integrity === 'ok', String(integrity));
  try {
    TranslationMemory.open(crash.cache).close();
    check('the cache opens as a translation memory', true);
  } catch (error) {
    check('the cache opens as a translation memory', false, (error as Error).message);
  }
  // The loop empties the cache between rounds, so it may hold fewer rows (none, when the last round
  // found every output done and translated nothing); never other ones.
  const expected = cacheRows(reference.cache);
  const actual = cacheRows(crash.cache);
  const differing = [...actual].filter(([key, value]) => expected.get(key) !== value).length;
  check(
    'every cached translation equals the uninterrupted run’s',
    differing === 0 && expected.size > 0,
    `${actual.size} rows (reference ${expected.size}), ${differing} not in the reference or different`,
  );
}

async function gracefulStop(
  signal: keyof typeof EXIT_ON,
  work: string,
  inputDir: string,
  modelsDir: string,
  reference: Variant,
  referenceRun: NewsbridgeRun,
): Promise<void> {
  const variant = makeVariant(work, `graceful-${signal}`, inputDir, modelsDir);
  const run = startNewsbridge(runArgs(variant));
  // Stop it once it has written its first article, so some work is done and some is not.
  const early = await waitFor(run, () => articleOutputs(listFiles(variant.out)) > 0, 5);
  if (early) {
    check(`${signal}: the run was stopped mid-way`, false, 'it finished before the signal; use a larger --n');
    return;
  }
  run.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), GRACEFUL_TIMEOUT_MS)));
  const stopped = await Promise.race([run.done, timeout]);
  clearTimeout(timer);
  if (!stopped) {
    run.child.kill('SIGKILL');
    check(`${signal}: the run stops`, false, `still running ${GRACEFUL_TIMEOUT_MS / 1000} s after the signal`);
    return;
  }
  check(`${signal}: exit code ${EXIT_ON[signal]}`, stopped.code === EXIT_ON[signal], `exit ${stopped.code}, signal ${stopped.signal}`);
  const report = readReport(variant);
  const articles = report?.articles as Record<string, number> | undefined;
  const written = articleOutputs(listFiles(variant.out));
  check(`${signal}: the run report says it was interrupted`, report?.interrupted === true, `interrupted: ${String(report?.interrupted)}`);
  check(
    `${signal}: the run report counts what was done`,
    articles !== undefined && articles.ok! + articles.partial! === written,
    `report ${JSON.stringify(articles)}, ${written} article outputs on disk`,
  );
  const differences = compareOutputs(reference.out, variant.out, { allowMissing: true });
  check(`${signal}: finished articles are complete, nothing half-written`, differences.length === 0, describeDifferences(differences));
  const resumed = await startNewsbridge(runArgs(variant)).done;
  const after = compareOutputs(reference.out, variant.out);
  check(
    `${signal}: a resumed run completes the rest`,
    resumed.code === referenceRun.code && after.length === 0,
    `exit ${resumed.code}; ${after.length === 0 ? 'outputs equal the reference' : describeDifferences(after)}`,
  );
}

async function main(options: HarnessOptions): Promise<number> {
  const started = performance.now();
  const work = options.work ? path.resolve(options.work) : mkdtempSync(path.join(tmpdir(), 'newsbridge-crash-'));
  mkdirSync(work, { recursive: true });
  const modelsDir = await ensureTestModels();
  const inputDir = path.join(work, 'input');
  rmSync(inputDir, { recursive: true, force: true });
  const corpus = writeCorpus({
    n: options.n,
    seed: options.seed,
    sourceDirs: [path.join(repoRoot, 'input'), ...options.corpus.map((dir) => path.resolve(dir))],
    outDir: inputDir,
    arabicShare: 0.5,
  });
  console.log(
    `crash harness in ${work}: ${corpus.files.length} articles (${corpus.byLanguage.ar} ar, ${corpus.byLanguage.vi} vi), seed ${options.seed}`,
  );

  const reference = makeVariant(work, 'reference', inputDir, modelsDir);
  const referenceRun = await startNewsbridge(runArgs(reference)).done;
  if (
    !check(
      'the uninterrupted reference run completes',
      referenceRun.code === 0 || referenceRun.code === 2,
      `exit ${referenceRun.code} in ${Math.round(referenceRun.wallMs)} ms`,
    )
  ) {
    console.error(referenceRun.stderr.slice(-3000));
    return 1;
  }

  const crash = makeVariant(work, 'crash', inputDir, modelsDir);
  // Random kills land between the end of process start-up (a kill before it tests nothing) and the
  // length of an uninterrupted run.
  const startupMs = (await startNewsbridge(['--help']).done).wallMs;
  const { kills, completedRuns } = await crashLoop(options, reference, referenceRun, crash, startupMs);
  check(
    `${options.kills} SIGKILLs, at random moments and mid-write`,
    kills.length >= options.kills && kills.some((kill) => kill.trigger === 'mid-write' && kill.tempFiles > 0),
    `${kills.filter((kill) => kill.tempFiles > 0).length} of them with a temp file open; ${completedRuns} runs between them finished before their kill`,
  );

  const final = await startNewsbridge(runArgs(crash)).done;
  check('the run after the last kill completes', final.code === referenceRun.code, `exit ${final.code}`);
  const differences = compareOutputs(reference.out, crash.out);
  check(
    'every output equals the uninterrupted run’s (timings aside), no temp files',
    differences.length === 0,
    describeDifferences(differences),
  );
  const rerun = await startNewsbridge(runArgs(crash)).done;
  const rerunReport = readReport(crash);
  check(
    'a rerun skips everything and makes no model calls',
    rerun.code === referenceRun.code && rerunReport?.modelCalls === 0,
    `exit ${rerun.code}, modelCalls ${String(rerunReport?.modelCalls)}, articles ${JSON.stringify(rerunReport?.articles)}`,
  );
  checkCache(reference, crash);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    await gracefulStop(signal, work, inputDir, modelsDir, reference, referenceRun);
  }

  const failed = checks.filter((c) => !c.ok);
  console.log(
    `\ncrash harness: ${failed.length === 0 ? 'PASS' : 'FAIL'} — ${checks.length - failed.length}/${checks.length} checks passed, ${kills.length} kills, ${Math.round((performance.now() - started) / 1000)} s`,
  );
  if (options.keep || failed.length > 0) console.log(`work folder kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
  return failed.length === 0 ? 0 : 1;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

const program = new Command('test:crash')
  .description('SIGKILL newsbridge runs at random moments and check that nothing is lost or corrupted.')
  .option('--n <articles>', 'articles in the generated corpus', positiveInteger, 12)
  .option('--kills <count>', 'SIGKILLs to deliver', positiveInteger, 12)
  .option('--seed <n>', 'seed of the corpus and the kill schedule', positiveInteger, 1)
  .option(
    '--corpus <dir>',
    'another folder of .txt articles to recombine (repeatable)',
    (dir: string, dirs: string[]) => [...dirs, dir],
    [],
  )
  .option('--work <dir>', 'work folder (default: a new temp folder)')
  .option('--keep', 'keep the work folder after a pass', false)
  .parse();

process.exitCode = await main(program.opts<HarnessOptions>());
