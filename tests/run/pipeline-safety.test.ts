import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { articleOutputSchema, manifestLineSchema, type ManifestLine } from '../../src/output/schema.js';
import { HOLDER_FILE, LOCK_DIR, lockOutputDir, OutputLockedError } from '../../src/run/output-lock.js';
import { runPipeline, type RunOptions } from '../../src/run/pipeline.js';
import type { ArticleOutcome, RunReport } from '../../src/run/report.js';
import { TranslationMemory } from '../../src/translation/memory.js';
import { ARABIC_ARTICLE, VIETNAMESE_ARTICLE } from '../helpers/bad-inputs.js';
import { mountSmallDisk } from '../helpers/tmpfs.js';

/** The runner against hostile inputs and neighbours: every test is a real run on real files. */

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-safety-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

let workspaces = 0;
async function workspace(): Promise<string> {
  const root = path.join(scratch, `ws-${++workspaces}`);
  await mkdir(path.join(root, 'input'), { recursive: true });
  return root;
}

function configFor(root: string, change: (config: PipelineConfig) => PipelineConfig = (config) => config): PipelineConfig {
  return change({
    ...defaultConfig,
    input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(path.join(root, 'input'))}/**/*.{txt,md}`] },
    output: { ...defaultConfig.output, dir: path.join(root, 'output') },
    translation: { ...defaultConfig.translation, modelsDir: inject('modelsDir'), download: false, maxNewTokensRatio: 1 },
    cache: { ...defaultConfig.cache, path: path.join(root, 'cache.sqlite') },
  });
}

interface Run {
  report: RunReport;
  outcomes: Map<string, ArticleOutcome>;
  problems: string[];
}

async function run(config: PipelineConfig, options: Partial<RunOptions> = {}): Promise<Run> {
  const outcomes = new Map<string, ArticleOutcome>();
  const problems: string[] = [];
  const report = await runPipeline({
    config,
    ...options,
    events: { onArticle: (outcome) => outcomes.set(outcome.id, outcome), onProblem: (message) => problems.push(message) },
  });
  return { report, outcomes, problems };
}

async function manifestOf(outputDir: string): Promise<ManifestLine[]> {
  const text = await readFile(path.join(outputDir, 'manifest.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => manifestLineSchema.parse(JSON.parse(line)));
}

const arabic = (n: number) => `${ARABIC_ARTICLE}\nوقال المتحدث إن العدد بلغ ${n} مزارعا في المنطقة.`;

describe('inputs that are not plain files inside the input folder', () => {
  it('a FIFO in input/ fails as unreadable and the run goes on', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(1));
    execFileSync('mkfifo', [path.join(root, 'input', 'feed.txt')]);
    const { outcomes, report } = await run(configFor(root));
    expect(outcomes.get('feed')).toMatchObject({ status: 'failed', reason: 'unreadable' });
    expect(outcomes.get('a')?.status).toBe('ok');
    expect(report.articles).toMatchObject({ total: 2, ok: 1, failed: 1 });
  });

  it('a symlink to a file outside the input folder is not read or copied into outputs, unless configured', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'secret.txt'), `${VIETNAMESE_ARTICLE}\nroot:x:0:0:secret`);
    await symlink(path.join(root, 'secret.txt'), path.join(root, 'input', 'p.txt'));
    const refused = await run(configFor(root));
    expect(refused.outcomes.get('p')).toMatchObject({ status: 'failed', reason: 'unreadable' });
    expect(refused.outcomes.get('p')?.message).toMatch(/outside the input folders/);
    const written = await readdir(path.join(root, 'output'));
    for (const file of written) expect(await readFile(path.join(root, 'output', file), 'utf8')).not.toContain('root:x:0:0');

    const followed = await run(configFor(root, (config) => ({ ...config, input: { ...config.input, followOutsideSymlinks: true } })));
    expect(followed.outcomes.get('p')?.status).toBe('ok');
    const output = articleOutputSchema.parse(JSON.parse(await readFile(path.join(root, 'output', 'p.json'), 'utf8')));
    expect(output.source.path).toContain('p.txt');
  });
});

describe('article ids', () => {
  it('three input folders each with x.txt give three outputs, the same on the next run; run-report.txt keeps its own', async () => {
    const root = await workspace();
    for (const [n, folder] of ['d1', 'd2', 'd3'].entries()) {
      await mkdir(path.join(root, folder));
      await writeFile(path.join(root, folder, 'x.txt'), arabic(n));
    }
    await writeFile(path.join(root, 'd1', 'run-report.txt'), arabic(7));
    await writeFile(path.join(root, 'd2', 'manifest.txt'), arabic(8));
    const config = configFor(root, (c) => ({
      ...c,
      input: { ...c.input, patterns: ['d1', 'd2', 'd3'].map((folder) => `${fg.convertPathToPattern(path.join(root, folder))}/**/*.txt`) },
    }));
    const first = await run(config);
    expect([...first.outcomes.keys()].sort()).toEqual(['d1/run-report', 'd1/x', 'd2/manifest', 'd2/x', 'd3/x']);
    const outputDir = path.join(root, 'output');
    for (const [n, folder] of ['d1', 'd2', 'd3'].entries()) {
      const output = articleOutputSchema.parse(JSON.parse(await readFile(path.join(outputDir, folder, 'x.json'), 'utf8')));
      expect(output.source.path).toBe(path.join(root, folder, 'x.txt'));
      expect(output.paragraphs.at(-1)?.sentences.at(-1)?.source).toContain(String(n));
    }
    const second = await run(config);
    expect([...second.outcomes.values()].every((outcome) => outcome.status === 'skipped')).toBe(true);
    expect((await manifestOf(outputDir)).map((line) => line.id)).toEqual(['d1/run-report', 'd1/x', 'd2/manifest', 'd2/x', 'd3/x']);

    // One folder: an article named run-report.txt keeps its extension in its id, and its own JSON.
    const single = configFor(root, (c) => ({
      ...c,
      input: { ...c.input, patterns: [`${fg.convertPathToPattern(path.join(root, 'd1'))}/*.txt`] },
    }));
    const alone = await run(single);
    expect([...alone.outcomes.keys()].sort()).toEqual(['run-report.txt', 'x']);
    const own = articleOutputSchema.parse(JSON.parse(await readFile(path.join(outputDir, 'run-report.txt.json'), 'utf8')));
    expect(own.source.path).toBe(path.join(root, 'd1', 'run-report.txt'));
    expect(JSON.parse(await readFile(path.join(outputDir, 'run-report.json'), 'utf8'))).toHaveProperty('articles');
  });
});

describe('one run per output folder', () => {
  it('a second run on a locked folder is refused with the holder named, and leaves the folder as it was', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(1));
    const config = configFor(root);
    await run(config);
    const manifest = await readFile(path.join(root, 'output', 'manifest.jsonl'), 'utf8');

    const lock = await lockOutputDir(config.output.dir);
    expect(lock).not.toBeNull();
    try {
      const refused = await runPipeline({ config, force: true }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OutputLockedError);
      expect((refused as Error).message).toContain(
        `output folder ${config.output.dir} is in use by newsbridge run ${process.pid} on ${hostname()}, started 20`,
      );
    } finally {
      await lock!.release();
    }
    expect(await readFile(path.join(root, 'output', 'manifest.jsonl'), 'utf8')).toBe(manifest);
    expect((await run(config, { force: true })).report.articles.ok).toBe(1);
  });

  it('two runs started together on one folder: one runs, the other is refused, the manifest is whole', async () => {
    const root = await workspace();
    for (let n = 0; n < 4; n++) await writeFile(path.join(root, 'input', `a${n}.txt`), arabic(n));
    const config = configFor(root);
    const results = await Promise.allSettled([run(config), run(config)]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(OutputLockedError);
    expect((await manifestOf(config.output.dir)).map((line) => line.id)).toEqual(['a0', 'a1', 'a2', 'a3']);
  });

  it('takes over at once a lock whose holder on this host no longer exists (kill -9)', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(1));
    const config = configFor(root);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await mkdir(path.join(config.output.dir, LOCK_DIR), { recursive: true });
    await writeFile(
      path.join(config.output.dir, HOLDER_FILE),
      JSON.stringify({ pid: Number(gone.stdout), host: hostname(), startedAt: new Date().toISOString() }),
    );
    const { report } = await run(config);
    expect(report.articles.ok).toBe(1);
    expect(await readdir(config.output.dir)).not.toContain(LOCK_DIR);
    expect(await readdir(config.output.dir)).not.toContain(HOLDER_FILE);
  });

  it('a run whose inputs match nothing leaves the manifest as it was', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(1));
    const config = configFor(root);
    await run(config);
    const manifest = await readFile(path.join(root, 'output', 'manifest.jsonl'), 'utf8');
    expect(manifest).toContain('"id":"a"');
    const empty = await run({ ...config, input: { ...config.input, patterns: [`${fg.convertPathToPattern(root)}/nothing/*.txt`] } });
    expect(empty.problems[0]).toMatch(/no articles match/);
    expect(await readFile(path.join(root, 'output', 'manifest.jsonl'), 'utf8')).toBe(manifest);
  });
});

describe('the translation memory never costs a translation', () => {
  const sentencesOf = async (outputDir: string, id: string) =>
    articleOutputSchema
      .parse(JSON.parse(await readFile(path.join(outputDir, `${id}.json`), 'utf8')))
      .paragraphs.flatMap((p) => p.sentences);

  it('on a full disk every sentence still reaches the outputs, the problem is said once, and the next run stores them', async () => {
    const root = await workspace();
    for (let n = 0; n < 3; n++) await writeFile(path.join(root, 'input', `a${n}.txt`), arabic(n));
    const disk = mountSmallDisk(path.join(root, 'small-disk'), '1m');
    try {
      const config = configFor(root, (c) => ({ ...c, cache: { ...c.cache, path: path.join(disk.dir, 'cache.sqlite') } }));
      TranslationMemory.open(config.cache.path).close();
      // Room to open the memory (its WAL index), not to store a run's translations.
      disk.fill(64 * 1024);
      const full = await run(config);
      expect(full.report.articles.ok).toBe(3);
      for (let n = 0; n < 3; n++)
        for (const sentence of await sentencesOf(config.output.dir, `a${n}`)) expect(sentence.target).toMatch(/\S/);
      expect(full.problems).toEqual([
        expect.stringMatching(/cache\.sqlite cannot store translations \(.*full.*\); the translations still reach the outputs/),
      ]);

      disk.free();
      const freed = await run(config, { force: true });
      expect(freed.problems).toEqual([]);
      expect(freed.report.modelCalls).toBeGreaterThan(0);
      const cached = await run(config, { force: true });
      expect(cached.report.modelCalls).toBe(0);
      expect(cached.report.cacheHits).toBeGreaterThan(0);
    } finally {
      disk.unmount();
    }
  });

  it('a memory damaged in the middle: moved aside once, every article still translated', async () => {
    const root = await workspace();
    for (let n = 0; n < 3; n++) await writeFile(path.join(root, 'input', `a${n}.txt`), arabic(n));
    const config = configFor(root);
    await run(config);
    const bytes = await readFile(config.cache.path);
    bytes.fill(0x5a, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 4096);
    await writeFile(config.cache.path, bytes);

    const rerun = await run(config, { force: true });
    expect(rerun.report.articles.ok).toBe(3);
    for (let n = 0; n < 3; n++) for (const sentence of await sentencesOf(config.output.dir, `a${n}`)) expect(sentence.target).toMatch(/\S/);
    expect(rerun.problems).toEqual([expect.stringMatching(/cache\.sqlite was damaged .*moved aside to .*cache\.sqlite\.damaged-/)]);
    const again = await run(config, { force: true });
    expect(again.problems).toEqual([]);
    expect(again.report.modelCalls).toBe(0);
  });
});

describe('one huge article', () => {
  const sentences = (outputDir: string, id: string) =>
    readFile(path.join(outputDir, `${id}.json`), 'utf8').then((text) =>
      articleOutputSchema.parse(JSON.parse(text)).paragraphs.flatMap((p) => p.sentences),
    );

  it('is translated up to translation.maxArticleChars; the rest stays untranslated as over-budget, and a rerun keeps it', async () => {
    const root = await workspace();
    const long = Array.from({ length: 12 }, (_, i) => `وقال المتحدث إن العدد بلغ ${i} مزارعا في المنطقة الشمالية من البلاد.`).join(' ');
    await writeFile(path.join(root, 'input', 'long.txt'), `${ARABIC_ARTICLE}\n${long}`);
    const config = configFor(root, (c) => ({ ...c, translation: { ...c.translation, maxArticleChars: 400 } }));
    const first = await run(config);
    expect(first.outcomes.get('long')).toMatchObject({ status: 'partial', reason: 'over-budget' });
    expect(first.outcomes.get('long')?.message).toMatch(
      /^the last \d+ of \d+ sentences were left untranslated: .*translation\.maxArticleChars \(400 characters\)/,
    );
    const all = await sentences(config.output.dir, 'long');
    const translated = all.filter((sentence) => sentence.target !== null);
    expect(translated.length).toBeGreaterThan(0);
    expect(translated.reduce((sum, sentence) => sum + sentence.source.length, 0)).toBeLessThanOrEqual(400);
    // The English stops at one place: every sentence before it translated, none after.
    expect(all.findIndex((sentence) => sentence.target === null)).toBe(translated.length);
    const second = await run(config);
    expect(second.outcomes.get('long')).toMatchObject({ status: 'skipped', output: { status: 'partial', reason: 'over-budget' } });
  });
});
