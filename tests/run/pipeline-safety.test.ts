import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { articleOutputSchema, manifestLineSchema, type ManifestLine } from '../../src/output/write.js';
import { runPipeline, type RunOptions } from '../../src/run/pipeline.js';
import type { ArticleOutcome, RunReport } from '../../src/run/report.js';
import { ARABIC_ARTICLE, VIETNAMESE_ARTICLE } from '../helpers/bad-inputs.js';

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
  return text.split('\n').filter(Boolean).map((line) => manifestLineSchema.parse(JSON.parse(line)));
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
