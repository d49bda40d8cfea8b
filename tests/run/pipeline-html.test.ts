import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fg from 'fast-glob';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ARTICLE_FILES, defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { articleOutputSchema } from '../../src/output/write.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { ARABIC_HEADING, ARABIC_PAGE_META, ARABIC_PARAGRAPHS, ARABIC_TITLE, ENGLISH_PARAGRAPHS, SECTION_FRONT_PAGE, newsPage } from '../fixtures/pages.js';

// End to end: saved web pages through every stage with the generated tiny models (random weights:
// the English is gibberish, but it is the real model path).
let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'newsbridge-html-run-'));
  await mkdir(path.join(root, 'input', 'web'), { recursive: true });
  const arabic = newsPage({ title: ARABIC_TITLE, paragraphs: ARABIC_PARAGRAPHS, heading: ARABIC_HEADING, lang: 'ar', dir: 'rtl', charset: 'windows-1256' });
  await writeFile(path.join(root, 'input', 'web', 'farmers.html'), iconv.encode(arabic, 'windows-1256'));
  // A template that says English over an English article: the hint agrees, nothing to translate.
  await writeFile(path.join(root, 'input', 'web', 'bridge.htm.gz'), gzipSync(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS, lang: 'en' })));
  await writeFile(path.join(root, 'input', 'web', 'world.html'), SECTION_FRONT_PAGE);
});
afterAll(() => rm(root, { recursive: true, force: true }));

function config(): PipelineConfig {
  return {
    ...defaultConfig,
    input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(path.join(root, 'input'))}/**/${ARTICLE_FILES}`] },
    output: { ...defaultConfig.output, dir: path.join(root, 'output') },
    translation: { ...defaultConfig.translation, modelsDir: inject('modelsDir'), download: false, maxNewTokensRatio: 1 },
    cache: { ...defaultConfig.cache, path: path.join(root, 'cache.sqlite') },
  };
}

const output = async (id: string) => articleOutputSchema.parse(JSON.parse(await readFile(path.join(root, 'output', `${id}.json`), 'utf8')));

describe('HTML articles in a run', () => {
  it('translates a windows-1256 Arabic page, records its metadata, and ends a section front as no-article', async () => {
    const report = await runPipeline({ config: config() });
    expect(report.articles).toMatchObject({ total: 3, ok: 2, failed: 1 });
    expect(report.reasons).toEqual({ 'no-article': 1 });

    const arabic = await output('web/farmers');
    expect(arabic.status).toBe('ok');
    expect(arabic.source.encoding).toBe('windows-1256');
    expect(arabic.language.lang).toBe('ar');
    expect(arabic.title).toBe(ARABIC_TITLE);
    expect(arabic.page).toEqual({
      ...ARABIC_PAGE_META,
      extraction: 'readability',
      removed: expect.arrayContaining([{ text: 'Farmers at work in a wheat field near the river, photographed last spring.', reason: 'caption' }]),
    });
    const body = arabic.paragraphs.filter((paragraph) => paragraph.kind !== 'title');
    expect(body.map((paragraph) => paragraph.sentences.map((sentence) => sentence.source).join(' '))).toEqual([
      ...ARABIC_PARAGRAPHS.slice(0, 2),
      ARABIC_HEADING,
      ...ARABIC_PARAGRAPHS.slice(2),
    ]);
    const sentences = body.flatMap((paragraph) => paragraph.sentences);
    expect(sentences.every((sentence) => typeof sentence.target === 'string' && sentence.target.length > 0)).toBe(true);
    expect(arabic.translation.status).toBe('translated');
    expect(arabic.models.map((model) => model.id)).toEqual(['Xenova/opus-mt-ar-en']);

    const english = await output('web/bridge');
    expect(english.language.lang).toBe('en');
    expect(english.page?.lang).toBe('en');
    expect(english.translation.status).toBe('passthrough');

    const manifest = (await readFile(path.join(root, 'output', 'manifest.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(manifest.find((line) => line.id === 'web/world')).toMatchObject({ status: 'failed', reason: 'no-article' });
  });
});
