import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import type { ArticleOutput } from '../../src/output/schema.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { GlossaryError } from '../../src/terminology/glossary.js';
import { newsPage } from '../fixtures/pages.js';

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

  it('copies what a web page marks translate="no" or class="notranslate", and the HTML output keeps the mark', async () => {
    const { root, config } = await workspace('page', '');
    const paragraphs = [
      'Báo <span translate="no">Tuổi Trẻ</span> cho biết giá xăng giảm lần thứ ba liên tiếp trong tháng này.',
      'Liên Bộ Công Thương vừa quyết định giảm giá xăng dầu, theo trang <em class="notranslate">Tuoi Tre</em> hôm nay.',
      'Đây là lần giảm giá thứ ba liên tiếp kể từ đầu tháng, và người dân ở nhiều tỉnh thành đều vui mừng khi chi phí đi lại giảm.',
      'Các chuyên gia dự báo giá xăng dầu sẽ tiếp tục ổn định trong những tuần tới nếu giá dầu thế giới không tăng mạnh trở lại.',
    ];
    await writeFile(path.join(root, 'input', 'vi-page.html'), newsPage({ title: 'Giá xăng giảm lần thứ ba', paragraphs, lang: 'vi' }));
    const pageConfig = {
      ...config,
      input: { ...config.input, patterns: [`${fg.convertPathToPattern(path.join(root, 'input'))}/*.html`] },
      translation: { ...config.translation, glossary: {} },
    };
    const report = await runPipeline({ config: pageConfig });
    expect(report.outputs.failed).toBe(0);
    const output = await articleOutput(path.join(root, 'output'));
    const sentences = output.paragraphs.flatMap((paragraph) => paragraph.sentences);
    const marked = sentences.flatMap((sentence) => (sentence.terms ?? []).filter((term) => term.kind === 'markup'));
    expect(marked).toEqual([
      { kind: 'markup', source: 'Tuổi Trẻ', target: 'Tuổi Trẻ', present: true },
      { kind: 'markup', source: 'Tuoi Tre', target: 'Tuoi Tre', present: true },
    ]);
    expect(sentences.find((sentence) => sentence.source.includes('Báo Tuổi Trẻ'))!.target).toContain('Tuổi Trẻ');
    expect(report.doNotTranslate).toMatchObject({ missing: 0 });
    const [html] = await fg('*.html', { cwd: path.join(root, 'output'), ignore: ['index.html'] });
    const page = await readFile(path.join(root, 'output', html!), 'utf8');
    expect(page).toContain('<span translate="no">Tuổi Trẻ</span>');
    expect(page).toContain('<span translate="no">Tuoi Tre</span>');
  });

  it('stops before any article with file:line when a glossary is bad', async () => {
    const { root, config } = await workspace('bad', 'Kishida Fumio\tFumio Kishida\nNhật Bản\n');
    const run = runPipeline({ config });
    await expect(run).rejects.toThrow(GlossaryError);
    await expect(run).rejects.toThrow(`${path.join(root, 'vi.tsv')}:2`);
    expect(await fg('*.json', { cwd: path.join(root, 'output'), ignore: ['run-report.json'] })).toEqual([]);
  });
});
