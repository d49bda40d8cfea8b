import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ARTICLE_FILES, defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { OutputDirError } from '../../src/run/output-lock.js';
import { runReportSchema, type ArticleOutcome } from '../../src/run/report.js';
import { ARABIC_ARTICLE } from '../helpers/bad-inputs.js';
import { ARABIC_PARAGRAPHS, ARABIC_TITLE, arabicPage } from '../fixtures/pages.js';

// End to end with the generated tiny models: what the reader decodes and what the listing finds
// decide an article's status, so these run the whole pipeline.
let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'newsbridge-input-run-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

function config(input: string, output: string, patterns = [`${fg.convertPathToPattern(input)}/**/${ARTICLE_FILES}`]): PipelineConfig {
  return {
    ...defaultConfig,
    input: { ...defaultConfig.input, patterns },
    output: { ...defaultConfig.output, dir: output },
    translation: { ...defaultConfig.translation, modelsDir: inject('modelsDir'), download: false, maxNewTokensRatio: 1 },
    cache: { ...defaultConfig.cache, path: path.join(root, 'cache.sqlite') },
  };
}

async function folderWith(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const at = path.join(root, name);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(at, file)), { recursive: true });
    await writeFile(path.join(at, file), content);
  }
  return at;
}

async function run(settings: PipelineConfig) {
  const outcomes: ArticleOutcome[] = [];
  const report = await runPipeline({ config: settings, events: { onArticle: (outcome) => outcomes.push(outcome) } });
  return { report, outcome: (id: string) => outcomes.find((outcome) => outcome.id === id) };
}

/** `bytes` with the first byte of `text` in them replaced by 0xFF, which is never valid UTF-8. */
function damaged(bytes: Buffer, text: string): Buffer {
  const copy = Buffer.from(bytes);
  copy[copy.indexOf(Buffer.from(text))] = 0xff;
  return copy;
}

describe('a page whose <meta charset> contradicts its bytes', () => {
  it('translates Arabic UTF-8 declared windows-1256 and windows-1256 declared UTF-8; damaged UTF-8 is partial / invalid-utf8 as in a .txt', async () => {
    const input = await folderWith('charsets/input', {
      'mislabelled.html': Buffer.from(arabicPage('windows-1256')),
      'declared-utf8.html': iconv.encode(arabicPage('utf-8'), 'windows-1256'),
      'damaged-page.html': damaged(Buffer.from(arabicPage('utf-8')), ARABIC_PARAGRAPHS[1]!),
      'damaged-text.txt': damaged(Buffer.from(ARABIC_ARTICLE), ARABIC_ARTICLE.split('\n')[1]!),
    });
    const output = path.join(root, 'charsets', 'output');
    const { report, outcome } = await run(config(input, output));
    expect(report.articles).toMatchObject({ total: 4, ok: 2, partial: 2, failed: 0 });

    for (const id of ['mislabelled', 'declared-utf8']) {
      expect(outcome(id)).toMatchObject({ status: 'ok' });
      expect(outcome(id)?.reason).toBeUndefined();
      const json = JSON.parse(await readFile(path.join(output, `${id}.json`), 'utf8'));
      expect(json.language.lang).toBe('ar');
      expect(json.translation.status).toBe('translated');
      expect(json.title).toBe(ARABIC_TITLE);
    }
    expect(JSON.parse(await readFile(path.join(output, 'mislabelled.json'), 'utf8')).source.encoding).toBe('utf-8');
    expect(JSON.parse(await readFile(path.join(output, 'declared-utf8.json'), 'utf8')).source.encoding).toBe('windows-1256');

    expect(outcome('damaged-page')).toMatchObject({
      status: 'partial',
      reason: 'invalid-utf8',
      message: expect.stringMatching(/^.*damaged-page\.html: not valid UTF-8 .*U\+FFFD/),
    });
    expect(outcome('damaged-text')).toMatchObject({
      status: 'partial',
      reason: 'invalid-utf8',
      message: expect.stringMatching(/^.*damaged-text\.txt: not valid UTF-8 .*U\+FFFD/),
    });
  });
});

describe('the output folder is never read as input', () => {
  it('keeps the same articles and ids run after run with the output folder inside the input folder', async () => {
    const input = await folderWith('nested/input', { 'a.txt': ARABIC_ARTICLE, 'b.html': arabicPage('utf-8'), 'c.md': ARABIC_ARTICLE });
    const output = path.join(input, 'out');
    const first = await run(config(input, output));
    expect(first.report.articles).toMatchObject({ total: 3, ok: 3 });
    const written = (await readdir(output)).sort();
    expect(written).toEqual(expect.arrayContaining(['a.md', 'a.html', 'a.json', 'b.json', 'c.json', 'index.html', 'manifest.jsonl']));

    for (let rerun = 0; rerun < 2; rerun++) {
      const again = await run(config(input, output));
      expect(again.report.articles).toMatchObject({ total: 3, skipped: 3 });
      expect(['a', 'b', 'c'].map((id) => again.outcome(id)?.status)).toEqual(['skipped', 'skipped', 'skipped']);
      // Every .md and .html the first run wrote is matched by the patterns, and counted instead of read.
      expect(again.report.notListed.inOutput).toBe(written.filter((name) => /\.(md|html)$/.test(name)).length);
      expect((await readdir(output)).sort()).toEqual(written);
    }
    const report = runReportSchema.parse(JSON.parse(await readFile(path.join(output, 'run-report.json'), 'utf8')));
    expect(report.notListed).toEqual({ hidden: 0, inOutput: 7 });
  });

  it('refuses an output folder that is the input folder, before reading or writing an article', async () => {
    const input = await folderWith('same/input', { 'a.txt': ARABIC_ARTICLE, 'b.md': ARABIC_ARTICLE });
    const refused = await runPipeline({ config: config(input, input) }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OutputDirError);
    expect((refused as Error).message).toContain(`output folder ${input} is where the input pattern`);
    expect((await readdir(input)).sort()).toEqual(['a.txt', 'b.md']);
  });
});

describe('what the listing finds', () => {
  it('translates an article in a folder with a line break in its name, and counts the hidden files it left out', async () => {
    const input = await folderWith('names/input', {
      'line\nbreak/a.txt': ARABIC_ARTICLE,
      '.hidden.txt': ARABIC_ARTICLE,
      '.hd/x.txt': ARABIC_ARTICLE,
      'seen.txt': ARABIC_ARTICLE,
    });
    const output = path.join(root, 'names', 'output');
    const { report, outcome } = await run(config(input, output));
    expect(report.articles).toMatchObject({ total: 2, ok: 2 });
    expect(outcome('line\nbreak/a')).toMatchObject({ status: 'ok' });
    expect(JSON.parse(await readFile(path.join(output, 'line\nbreak', 'a.json'), 'utf8')).translation.status).toBe('translated');
    const written = runReportSchema.parse(JSON.parse(await readFile(path.join(output, 'run-report.json'), 'utf8')));
    expect(written.notListed).toEqual({ hidden: 2, inOutput: 0 });
  });
});
