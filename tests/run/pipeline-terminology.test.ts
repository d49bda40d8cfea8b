import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import type { ArticleOutput } from '../../src/output/schema.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { GlossaryError } from '../../src/terminology/glossary.js';

/**
 * `translation.glossary` and `translation.doNotTranslate` in a real run on the generated tiny models:
 * their random weights never write "Fumio Kishida" or "XNUMX" by chance, so an output carrying them
 * was constrained to.
 */

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-terms-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

const ARTICLE = 'Thủ tướng Kishida Fumio đến Hà Nội hôm nay để hội đàm.\n\nÔng nói XNUMX lần về hợp tác kinh tế giữa hai nước.\n';

async function workspace(name: string, glossary: string): Promise<{ root: string; config: PipelineConfig }> {
  const root = path.join(scratch, name);
  await mkdir(path.join(root, 'input'), { recursive: true });
  await writeFile(path.join(root, 'input', 'vi-article.txt'), ARTICLE);
  await writeFile(path.join(root, 'vi.tsv'), glossary);
  const config: PipelineConfig = {
    ...defaultConfig,
    input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(path.join(root, 'input'))}/*.txt`] },
    output: { ...defaultConfig.output, dir: path.join(root, 'output') },
    translation: {
      ...defaultConfig.translation,
      modelsDir: inject('modelsDir'),
      download: false,
      maxNewTokensRatio: 1,
      glossary: { vi: path.join(root, 'vi.tsv') },
    },
    cache: { ...defaultConfig.cache, path: path.join(root, 'cache.sqlite') },
  };
  return { root, config };
}

async function articleOutput(dir: string): Promise<ArticleOutput> {
  const [file] = await fg('*.json', { cwd: dir, ignore: ['run-report.json'] });
  return JSON.parse(await readFile(path.join(dir, file!), 'utf8')) as ArticleOutput;
}

describe('terminology in a run', () => {
  it('translates an article under its language glossary and the do-not-translate spans, and says so per sentence and in the report', async () => {
    const { root, config } = await workspace('ok', 'Kishida Fumio\tFumio Kishida\n');
    const report = await runPipeline({ config });
    expect(report.outputs.failed).toBe(0);
    const output = await articleOutput(path.join(root, 'output'));
    const english = output.paragraphs.map((paragraph) => paragraph.sentences.map((sentence) => sentence.target).join(' ')).join('\n');
    expect(english).toContain('Fumio Kishida');
    expect(english).toContain('XNUMX');
    const terms = output.paragraphs.flatMap((paragraph) => paragraph.sentences.flatMap((sentence) => sentence.terms ?? []));
    expect(terms).toEqual([
      { kind: 'term', source: 'Kishida Fumio', target: 'Fumio Kishida', present: true },
      { kind: 'numbers', source: 'XNUMX', target: 'XNUMX', present: true },
    ]);
    expect(report.terms).toEqual({ applied: 1, present: 1, missing: 0 });
    expect(report.doNotTranslate).toEqual({ applied: 1, present: 1, missing: 0 });

    // Another output folder on the same translation memory: every sentence is a memory hit, and the terms are the same.
    const again = await runPipeline({ config: { ...config, output: { ...config.output, dir: path.join(root, 'output-again') } } });
    expect(again.modelCalls).toBe(0);
    expect(again.cacheHits).toBeGreaterThan(0);
    const served = await articleOutput(path.join(root, 'output-again'));
    expect(served.paragraphs).toEqual(output.paragraphs);
    expect(again.terms).toEqual(report.terms);
    expect(again.doNotTranslate).toEqual(report.doNotTranslate);
  });

  it('stops before any article with file:line when a glossary is bad', async () => {
    const { root, config } = await workspace('bad', 'Kishida Fumio\tFumio Kishida\nNhật Bản\n');
    const run = runPipeline({ config });
    await expect(run).rejects.toThrow(GlossaryError);
    await expect(run).rejects.toThrow(`${path.join(root, 'vi.tsv')}:2`);
    expect(await fg('*.json', { cwd: path.join(root, 'output'), ignore: ['run-report.json'] })).toEqual([]);
  });
});
