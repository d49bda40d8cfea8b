import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import fg from 'fast-glob';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { runPipeline, type RunEvents } from '../../src/run/pipeline.js';
import { runReportSchema, type ArticleOutcome, type RunReport } from '../../src/run/report.js';
import { articleOutputSchema, manifestLineSchema, type ArticleOutput, type ManifestLine } from '../../src/output/schema.js';
import { articleJsonText } from '../../src/output/json.js';
import { parsePage } from '../helpers/html-dom.js';
import { ARABIC_ARTICLE, LONG_LINE_CHARS, VIETNAMESE_ARTICLE, writeBadInputs } from '../helpers/bad-inputs.js';
import { MIXED_PARAGRAPHS } from '../fixtures/mixed-article.js';

/**
 * Disk-full simulation: while `diskFull.on`, writing a temp file (`*.tmp`, what writeFileAtomic
 * writes before its rename) puts a few bytes on disk and then fails with ENOSPC, as a full disk does.
 * Every other file operation is the real one.
 */
const diskFull = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (file: Parameters<typeof actual.open>[0], ...rest: [string?, number?]) => {
    const handle = await actual.open(file, ...rest);
    if (!diskFull.on || !String(file).endsWith('.tmp')) return handle;
    return new Proxy(handle, {
      get(target, property) {
        if (property === 'writeFile') {
          return async (data: string | Uint8Array) => {
            await target.write(Buffer.from(data).subarray(0, 16));
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }) as typeof actual.open;
  return { ...actual, open, default: { ...actual, open } };
});

const SAMPLE_INPUT = path.resolve('input');

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-pipeline-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));
afterEach(() => {
  diskFull.on = false;
});

let runs = 0;
/** A fresh folder under the scratch dir with an `input/` folder. */
async function workspace(): Promise<string> {
  const root = path.join(scratch, `run-${++runs}`);
  await mkdir(path.join(root, 'input'), { recursive: true });
  return root;
}

interface Setup {
  modelsDir?: string;
  /** Defaults to `<root>/cache.sqlite`. */
  cachePath?: string;
  concurrency?: number;
  maxBytes?: number;
  outputDir?: string;
  download?: boolean;
  mirror?: string;
}

/**
 * The default config pointed at a workspace. The tiny test models have random weights and decode to
 * their length limit, so `maxNewTokensRatio: 1` halves generation time; nothing here depends on it.
 */
function configFor(root: string, setup: Setup = {}): PipelineConfig {
  return {
    ...defaultConfig,
    input: {
      ...defaultConfig.input,
      patterns: [`${fg.convertPathToPattern(path.join(root, 'input'))}/**/*.{txt,md}`],
      ...(setup.maxBytes ? { maxBytes: setup.maxBytes } : {}),
    },
    output: { ...defaultConfig.output, dir: setup.outputDir ?? path.join(root, 'output') },
    run: { concurrency: setup.concurrency ?? 2 },
    translation: {
      ...defaultConfig.translation,
      modelsDir: setup.modelsDir ?? inject('modelsDir'),
      download: setup.download ?? false,
      ...(setup.mirror ? { mirror: setup.mirror } : {}),
      maxNewTokensRatio: 1,
    },
    cache: { ...defaultConfig.cache, path: setup.cachePath ?? path.join(root, 'cache.sqlite') },
  };
}

interface Run {
  report: RunReport;
  outcomes: ArticleOutcome[];
  problems: string[];
}

async function run(
  config: PipelineConfig,
  extra: { force?: boolean; events?: RunEvents; signal?: AbortSignal; jsonl?: PassThrough } = {},
): Promise<Run> {
  const outcomes: ArticleOutcome[] = [];
  const problems: string[] = [];
  const report = await runPipeline({
    config,
    force: extra.force,
    signal: extra.signal,
    jsonl: extra.jsonl,
    events: {
      ...extra.events,
      onArticle: (outcome) => {
        outcomes.push(outcome);
        extra.events?.onArticle?.(outcome);
      },
      onProblem: (message) => problems.push(message),
    },
  });
  return { report, outcomes, problems };
}

async function readOutput(root: string, id: string): Promise<ArticleOutput> {
  return articleOutputSchema.parse(JSON.parse(await readFile(path.join(root, 'output', `${id}.json`), 'utf8')));
}

async function readManifest(outputDir: string): Promise<ManifestLine[]> {
  const text = await readFile(path.join(outputDir, 'manifest.jsonl'), 'utf8');
  return text
    .trimEnd()
    .split('\n')
    .map((line) => manifestLineSchema.parse(JSON.parse(line)));
}

async function readDigest(outputDir: string): Promise<Document> {
  return parsePage(await readFile(path.join(outputDir, 'index.html'), 'utf8'));
}

async function readRunReport(outputDir: string): Promise<RunReport> {
  return runReportSchema.parse(JSON.parse(await readFile(path.join(outputDir, 'run-report.json'), 'utf8')));
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );
const withoutTimings = ({ timings: _timings, ...rest }: ArticleOutput) => rest;
const sentences = (output: ArticleOutput) => output.paragraphs.flatMap((p) => p.sentences);

async function copySamples(root: string): Promise<string[]> {
  const names = (await readdir(SAMPLE_INPUT)).filter((name) => name.endsWith('.txt')).sort();
  for (const name of names) await cp(path.join(SAMPLE_INPUT, name), path.join(root, 'input', name));
  return names.map((name) => name.replace(/\.txt$/, ''));
}

/** Short articles that translate fast with the tiny models; `n` makes each one distinct. */
const arabic = (n: number) => `${ARABIC_ARTICLE}\nوقال المتحدث إن العدد بلغ ${n} مزارعا في المنطقة.`;
const vietnamese = (n: number) => `${VIETNAMESE_ARTICLE}\nGiá xăng tại trạm số ${n} đã giảm từ chiều nay.`;

describe('the five sample articles, run after run (one shared workspace, in order)', () => {
  let root: string;
  let ids: string[];
  let first: Run;
  beforeAll(async () => {
    root = await workspace();
    ids = await copySamples(root);
    first = await run(configFor(root));
  });

  it('gives every sentence of the four Arabic and the Vietnamese article an English target', async () => {
    const outputs = await Promise.all(ids.map((id) => readOutput(root, id)));
    expect(outputs.map((o) => o.language.lang).sort()).toEqual(['ar', 'ar', 'ar', 'ar', 'vi']);
    for (const output of outputs) {
      expect(output.status).toBe('ok');
      expect(output.translation.status).toBe('translated');
      expect(output.models.map((m) => m.id)).toEqual([`Xenova/opus-mt-${output.language.lang}-en`]);
      expect(sentences(output).length).toBeGreaterThan(5);
      for (const sentence of sentences(output)) expect(sentence.target).toMatch(/\S/);
      expect(output.summary.pairs).toHaveLength(3);
      expect(output.summary.pairs.map((p) => p.target)).toEqual(output.summary.indices.map((i) => sentences(output)[i]!.target));
      expect(output.source.sha256).toBe(
        createHash('sha256')
          .update(await readFile(path.join(root, 'input', `${output.id}.txt`)))
          .digest('hex'),
      );
      expect(await readFile(path.join(root, 'output', `${output.id}.md`), 'utf8')).toContain('## Summary');
      // Written as articleJsonText gives it, the text the schema tests in write.test.ts check.
      const text = await readFile(path.join(root, 'output', `${output.id}.json`), 'utf8');
      expect(text).toBe(articleJsonText(JSON.parse(text) as ArticleOutput));
    }
    expect(first.problems).toEqual([]);
  });

  it('writes manifest.jsonl with one line per article in input order', async () => {
    const manifest = await readManifest(path.join(root, 'output'));
    expect(manifest.map((line) => line.id)).toEqual(ids);
    for (const line of manifest) {
      expect(line).toMatchObject({ status: 'ok', outputs: { json: `${line.id}.json`, md: `${line.id}.md`, html: `${line.id}.html` } });
      expect(line.summary).toEqual((await readOutput(root, line.id)).summary.pairs.map((p) => p.target));
    }
  });

  it('writes run-report.json with the counts', async () => {
    const written = await readRunReport(path.join(root, 'output'));
    expect(written).toEqual(first.report);
    const total = (await Promise.all(ids.map((id) => readOutput(root, id)))).reduce((sum, o) => sum + sentences(o).length, 0);
    expect(written).toMatchObject({
      interrupted: false,
      articles: { total: 5, ok: 5, partial: 0, failed: 0, skipped: 0 },
      reasons: {},
      sentencesTranslated: total,
      cacheHits: 0,
      problems: [],
    });
    expect(written.modelCalls).toBeGreaterThan(0);
    expect(written.sentencesToModel).toBeGreaterThanOrEqual(total - 5);
    expect(Object.keys(written.stageMs).sort()).toEqual(['clean', 'detect', 'read', 'segment', 'summarize', 'translate', 'write']);
  });

  it('writes each article as a bilingual page, a row per sentence, and the digest linking to every page', async () => {
    const digest = await readDigest(path.join(root, 'output'));
    expect([...digest.querySelectorAll('ol.articles h3 a')].map((a) => a.getAttribute('href'))).toEqual(ids.map((id) => `./${id}.html`));
    expect(digest.querySelector('.problems')).toBeNull();
    for (const id of ids) {
      const output = await readOutput(root, id);
      const page = parsePage(await readFile(path.join(root, 'output', `${id}.html`), 'utf8'));
      const body = output.paragraphs.filter((paragraph) => paragraph.kind !== 'title').flatMap((paragraph) => paragraph.sentences);
      const rows = [...page.querySelectorAll('.paragraph > .pair')];
      expect(rows.map((row) => [row.children[0]!.textContent, row.children[1]!.querySelector('span')!.textContent])).toEqual(
        body.map((sentence) => [sentence.source, sentence.target]),
      );
      expect(rows[0]!.children[0]).toMatchObject({ lang: output.language.lang, dir: output.language.lang === 'ar' ? 'rtl' : 'ltr' });
      expect(page.querySelectorAll('.summary > .pair')).toHaveLength(3);
    }
  });

  it('skips every article on a second run, with no model calls and the outputs left as they were', async () => {
    const before = await Promise.all(ids.map((id) => readFile(path.join(root, 'output', `${id}.json`), 'utf8')));
    const again = await run(configFor(root));
    expect(again.report).toMatchObject({
      articles: { total: 5, ok: 0, skipped: 5 },
      reasons: { 'up-to-date': 5 },
      modelCalls: 0,
      sentencesToModel: 0,
      sentencesTranslated: 0,
    });
    expect(await Promise.all(ids.map((id) => readFile(path.join(root, 'output', `${id}.json`), 'utf8')))).toEqual(before);
    const manifest = await readManifest(path.join(root, 'output'));
    expect(manifest.map((line) => [line.id, line.status, line.reason])).toEqual(ids.map((id) => [id, 'skipped', 'up-to-date']));
    expect(manifest[0]!.summary).toEqual(JSON.parse(before[0]!).summary.pairs.map((p: { target: string }) => p.target));
    const digest = await readDigest(path.join(root, 'output'));
    expect(
      [...digest.querySelectorAll('ol.articles > li')].map((li) => [
        li.getAttribute('data-status'),
        li.querySelector('h3 a')?.getAttribute('href'),
      ]),
    ).toEqual(ids.map((id) => ['skipped', `./${id}.html`]));
  });

  it('processes an article again when one of its outputs was deleted', async () => {
    for (const format of ['md', 'html']) {
      await rm(path.join(root, 'output', `${ids[1]}.${format}`));
      const again = await run(configFor(root));
      expect(again.report).toMatchObject({ articles: { total: 5, ok: 1, skipped: 4 }, modelCalls: 0 });
      expect(again.outcomes.find((o) => o.status === 'ok')?.id).toBe(ids[1]);
      expect(await exists(path.join(root, 'output', `${ids[1]}.${format}`))).toBe(true);
    }
  });

  it('processes every article again with force, from the translation memory, to the same outputs', async () => {
    const before = await Promise.all(ids.map((id) => readOutput(root, id)));
    const forced = await run(configFor(root), { force: true });
    expect(forced.report).toMatchObject({ articles: { total: 5, ok: 5, skipped: 0 }, modelCalls: 0, sentencesToModel: 0 });
    expect(forced.report.cacheHits).toBe(before.reduce((sum, o) => sum + sentences(o).length, 0));
    const after = await Promise.all(ids.map((id) => readOutput(root, id)));
    expect(after.map(withoutTimings)).toEqual(before.map(withoutTimings));
  });

  it('after one article is edited, processes only it, and only its changed sentence reaches the model', async () => {
    const file = path.join(root, 'input', `${ids[0]}.txt`);
    const [firstLine, ...rest] = (await readFile(file, 'utf8')).split('\n');
    expect(firstLine).toContain('الجمعة');
    await writeFile(file, [firstLine!.replace('الجمعة', 'الخميس'), ...rest].join('\n'));

    const edited = await run(configFor(root));
    expect(edited.report).toMatchObject({
      articles: { total: 5, ok: 1, skipped: 4 },
      modelCalls: 1,
      sentencesToModel: 1,
    });
    expect(edited.outcomes.find((o) => o.status === 'ok')?.id).toBe(ids[0]);
    const output = await readOutput(root, ids[0]!);
    expect(sentences(output)[0]!.source).toContain('الخميس');
    expect(edited.report.cacheHits).toBe(sentences(output).length - 1);
  });

  describe('without models', () => {
    let bare: string;
    let noModels: Run;
    const modelsDir = () => path.join(bare, 'models');
    beforeAll(async () => {
      bare = await workspace();
      await copySamples(bare);
      // The same translation memory as above: once the models are installed, the rerun is quick.
      noModels = await run(configFor(bare, { modelsDir: modelsDir(), cachePath: path.join(root, 'cache.sqlite') }));
    });

    it('marks every article partial/model-unavailable and says so once per language, not per article', async () => {
      expect(noModels.report).toMatchObject({
        articles: { total: 5, partial: 5 },
        reasons: { 'model-unavailable': 5 },
        modelCalls: 0,
        sentencesTranslated: 0,
      });
      expect(noModels.problems).toHaveLength(2);
      expect(noModels.problems.sort()).toEqual([
        expect.stringMatching(/^ar: model Xenova\/opus-mt-ar-en \(ar\) is unavailable: .* Fix: run `newsbridge models pull --only ar/),
        expect.stringMatching(/^vi: model Xenova\/opus-mt-vi-en \(vi\) is unavailable: .* Fix: run `newsbridge models pull --only vi/),
      ]);
      expect(noModels.report.problems.sort()).toEqual(noModels.problems);
      for (const outcome of noModels.outcomes) expect(outcome.message).toContain('newsbridge models pull');
    });

    it('still writes the cleaned, detected, segmented and summarized outputs', async () => {
      const manifest = await readManifest(path.join(bare, 'output'));
      expect(manifest).toHaveLength(5);
      for (const line of manifest) {
        const output = await readOutput(bare, line.id);
        expect(output).toMatchObject({ status: 'partial', reason: 'model-unavailable', translation: { status: 'model-unavailable' } });
        expect(['ar', 'vi']).toContain(output.language.lang);
        expect(output.paragraphs.length).toBeGreaterThan(3);
        expect(sentences(output).every((s) => s.target === null)).toBe(true);
        expect(output.summary.pairs).toHaveLength(3);
        expect(output.summary.pairs.every((p) => p.source !== '' && p.target === null)).toBe(true);
        expect(line.summary).toEqual([null, null, null]);
      }
      // The clean stage ran: the Vietnamese sample ends with navigation and an image placeholder.
      const vi = await readOutput(bare, ids[4]!);
      expect(vi.removed.length).toBeGreaterThan(0);
    });

    it('skips them while the models are still missing, and processes them once the models are installed', async () => {
      const config = configFor(bare, { modelsDir: modelsDir(), cachePath: path.join(root, 'cache.sqlite') });
      const still = await run(config);
      expect(still.report).toMatchObject({ articles: { skipped: 5 }, reasons: { 'up-to-date': 5 } });

      await cp(inject('modelsDir'), modelsDir(), { recursive: true });
      const installed = await run(config);
      expect(installed.report).toMatchObject({ articles: { total: 5, ok: 5, skipped: 0 }, problems: [] });
      for (const id of ids) expect(sentences(await readOutput(bare, id)).every((s) => s.target !== null)).toBe(true);
    });
  });
});

describe('models that cannot be used', () => {
  it('reports a failed download once per language and still runs the other stages', async () => {
    const root = await workspace();
    for (let i = 0; i < 3; i++) await writeFile(path.join(root, 'input', `ar-${i}.txt`), arabic(i));
    await writeFile(path.join(root, 'input', 'vi-0.txt'), vietnamese(0));
    const result = await run(configFor(root, { modelsDir: path.join(root, 'models'), download: true, mirror: 'http://127.0.0.1:9' }));
    expect(result.report).toMatchObject({ articles: { total: 4, partial: 4 }, reasons: { 'model-unavailable': 4 } });
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]).toMatch(
      /^ar: Xenova\/opus-mt-ar-en could not be downloaded, .*\(http:\/\/127\.0\.0\.1:9\/[^)]*\) could not be reached .* Fix: run `newsbridge models pull --only ar/,
    );
    expect(result.problems[1]).toMatch(/^vi: Xenova\/opus-mt-vi-en could not be downloaded/);
  });

  it('names a missing ONNX file, and the other language still translates', async () => {
    const root = await workspace();
    const modelsDir = path.join(root, 'models');
    await cp(inject('modelsDir'), modelsDir, { recursive: true });
    const missing = path.join(modelsDir, 'Xenova', 'opus-mt-ar-en', 'onnx', 'encoder_model_quantized.onnx');
    await rm(missing);
    await writeFile(path.join(root, 'input', 'ar.txt'), arabic(1));
    await writeFile(path.join(root, 'input', 'vi.txt'), vietnamese(1));

    const result = await run(configFor(root, { modelsDir }));
    expect(result.problems).toEqual([expect.stringContaining(`${missing} is missing`)]);
    const ar = await readOutput(root, 'ar');
    expect(ar).toMatchObject({ status: 'partial', reason: 'model-unavailable' });
    expect(ar.translation.message).toContain(`${missing} is missing`);
    const vi = await readOutput(root, 'vi');
    expect(vi.status).toBe('ok');
    expect(sentences(vi).every((s) => s.target !== null)).toBe(true);
  });

  it('names a corrupt ONNX file, and the other language still translates', async () => {
    const root = await workspace();
    const modelsDir = path.join(root, 'models');
    await cp(inject('modelsDir'), modelsDir, { recursive: true });
    const corrupt = path.join(modelsDir, 'Xenova', 'opus-mt-vi-en', 'onnx', 'decoder_model_merged_quantized.onnx');
    await writeFile(corrupt, Buffer.alloc((await stat(corrupt)).size, 0x5a));
    await writeFile(path.join(root, 'input', 'ar.txt'), arabic(2));
    await writeFile(path.join(root, 'input', 'vi.txt'), vietnamese(2));

    const result = await run(configFor(root, { modelsDir }));
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^vi: model Xenova\/opus-mt-vi-en \(vi\) is unavailable: .* could not be loaded/);
    expect(result.problems[0]).toContain(corrupt);
    expect(await readOutput(root, 'vi')).toMatchObject({ status: 'partial', reason: 'model-unavailable' });
    const ar = await readOutput(root, 'ar');
    expect(ar.status).toBe('ok');
    expect(sentences(ar).every((s) => s.target !== null)).toBe(true);
  });
});

describe('lines a site repeats across the night', () => {
  const plug = 'Đăng ký nhận bản tin của chúng tôi để đọc tin mới mỗi sáng.';
  const credit = 'Ảnh: Reuters';
  /** A short story of its own (no line shared with the others but the extra ones). */
  const story = (n: number, extra: string[]) =>
    [
      `Tin vắn số ${n} trong ngày hôm nay`,
      `Sáng nay, tỉnh số ${n} đã đón ${n * 7} đoàn khách quốc tế.`,
      ...extra,
      `Du khách tăng ${n * 3} phần trăm so với năm ngoái.`,
      plug,
    ].join('\n');

  it("removes them from the site's articles only, and redoes exactly the articles whose removed lines change", async () => {
    const root = await workspace();
    const write = async (file: string, text: string) => {
      await mkdir(path.dirname(path.join(root, 'input', file)), { recursive: true });
      await writeFile(path.join(root, 'input', file), text);
    };
    for (const n of [1, 2, 3, 4]) await write(`site-a/${n}.txt`, story(n, n <= 2 ? [credit] : []));
    for (const n of [5, 6]) await write(`site-b/${n}.txt`, story(n, []));
    const config = configFor(root);

    const first = await run(config);
    expect(first.report.articles).toMatchObject({ total: 6, ok: 6 });
    for (const n of [1, 2, 3, 4]) {
      const output = await readOutput(root, `site-a/${n}`);
      expect(output.removed).toEqual([{ line: n <= 2 ? 5 : 4, text: plug, reason: 'repeated-across-corpus' }]);
      expect(sentences(output).map((sentence) => sentence.source)).not.toContain(plug);
      expect(output.title).toBe(`Tin vắn số ${n} trong ngày hôm nay`);
    }
    // Site b has the plug in two articles only: below what makes a line the site's.
    expect(sentences(await readOutput(root, 'site-b/5')).map((sentence) => sentence.source)).toContain(plug);

    const again = await run(config);
    expect(again.report.articles).toMatchObject({ total: 6, skipped: 6 });

    // A fifth article with the credit makes it the site's: the three that have it are done, the others skipped.
    await write('site-a/7.txt', story(7, [credit]));
    const third = await run(config);
    expect(
      third.outcomes
        .filter((o) => o.status === 'ok')
        .map((o) => o.id)
        .sort(),
    ).toEqual(['site-a/1', 'site-a/2', 'site-a/7']);
    expect(third.report.articles).toMatchObject({ total: 7, ok: 3, skipped: 4 });
    expect((await readOutput(root, 'site-a/1')).removed.map((r) => r.text)).toEqual([credit, plug]);
  });
});

describe('translation beside the other stages', () => {
  const ENGLISH_ARTICLES = 40;
  it('reads, cleans, segments, summarizes and writes other articles while a model batch decodes', async () => {
    const root = await workspace();
    // An Arabic article long enough for several model batches, and English articles that need no
    // model but take a moment each (segmenting and summarizing a few hundred sentences). Three at a
    // time: the English ones go through one slot after another from the start, before, while and
    // after the model loads and decodes.
    const paragraphs = Array.from({ length: 96 }, (_, i) => `${ARABIC_ARTICLE.split('\n')[1]} وبلغ العدد ${i + 1} في المنطقة.`);
    await writeFile(path.join(root, 'input', 'a.txt'), `${ARABIC_ARTICLE.split('\n')[0]}\n${paragraphs.join('\n')}`);
    const english = Array.from(
      { length: 300 },
      (_, i) => `Farmers in district ${i} said the new plan would help them on ${i % 7 === 0 ? 'Sunday' : 'Monday'}.`,
    ).join(' ');
    for (let i = 0; i < ENGLISH_ARTICLES; i++)
      await writeFile(path.join(root, 'input', `e${String(i).padStart(2, '0')}.txt`), `Farm plan ${i}\n${english} Article ${i}.`);
    const lines: { time: number; msg: string; ms?: number; article?: ArticleOutcome }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });

    const report = await runPipeline({ config: configFor(root, { concurrency: 3 }), log: pino({ level: 'debug' }, sink) });
    expect(report.articles).toMatchObject({ total: ENGLISH_ARTICLES + 1, ok: ENGLISH_ARTICLES + 1 });

    const batches = lines.filter((line) => line.msg === 'model batch').map((line) => ({ start: line.time - line.ms!, end: line.time }));
    expect(batches.length).toBeGreaterThan(1);
    const englishDone = lines.filter((line) => line.msg === 'article done' && line.article!.id.startsWith('e')).map((line) => line.time);
    expect(englishDone).toHaveLength(ENGLISH_ARTICLES);
    // The main thread finished English articles while a batch was decoding in an inference worker.
    const duringBatch = englishDone.filter((time) => batches.some((batch) => batch.start < time && time < batch.end));
    expect(duringBatch.length).toBeGreaterThan(0);
  });
});

describe('an article whose file changes while it is processed', () => {
  /** A logger that calls `midTranslation` each time a model batch is logged: the article is being translated. */
  const onModelBatch = (midTranslation: () => void) =>
    pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
            if (JSON.parse(line).msg === 'model batch') midTranslation();
          done();
        },
      }),
    );
  const sha256Of = (text: string) => createHash('sha256').update(text).digest('hex');

  it('is started over on the new bytes: its outputs describe the file as it is now, and a rerun skips it', async () => {
    const root = await workspace();
    const file = path.join(root, 'input', 'a.txt');
    await writeFile(file, arabic(1));
    let edits = 0;
    const report = await runPipeline({
      config: configFor(root),
      log: onModelBatch(() => {
        if (edits++ === 0) writeFileSync(file, arabic(2));
      }),
    });
    expect(edits).toBeGreaterThan(1);
    expect(report.articles).toMatchObject({ total: 1, ok: 1 });
    const output = await readOutput(root, 'a');
    expect(output.source.sha256).toBe(sha256Of(arabic(2)));
    expect(sentences(output).at(-1)!.source).toContain('بلغ 2 ');
    expect((await run(configFor(root))).report.articles).toMatchObject({ total: 1, skipped: 1 });
  });

  it('fails input-changed when it changes on every attempt, leaving the earlier outputs as they were', async () => {
    const root = await workspace();
    const file = path.join(root, 'input', 'a.txt');
    await writeFile(file, arabic(1));
    await run(configFor(root));
    const before = await readFile(path.join(root, 'output', 'a.json'), 'utf8');

    await writeFile(file, arabic(2));
    let version = 10;
    const outcomes: ArticleOutcome[] = [];
    const report = await runPipeline({
      config: configFor(root),
      events: { onArticle: (outcome) => outcomes.push(outcome) },
      // Each attempt has a sentence new to the translation memory, so each reaches the model and is edited under.
      log: onModelBatch(() => writeFileSync(file, arabic(++version))),
    });
    expect(version).toBe(13);
    expect(report.articles).toMatchObject({ total: 1, failed: 1 });
    expect(outcomes[0]).toMatchObject({ status: 'failed', reason: 'input-changed' });
    expect(outcomes[0]!.message).toContain(file);
    expect(outcomes[0]!.message).toContain('3 times in a row');
    expect(await readFile(path.join(root, 'output', 'a.json'), 'utf8')).toBe(before);
    expect((await readManifest(path.join(root, 'output')))[0]).toMatchObject({ status: 'failed', reason: 'input-changed' });
  });
});

describe('output modes and stopping', () => {
  it('streams records as JSON lines in input order with --jsonl, writing no files', async () => {
    const root = await workspace();
    // `a` needs the model and finishes last; `b` fails at once and `c` (English) needs no model.
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(3));
    await writeFile(path.join(root, 'input', 'b.txt'), '');
    await writeFile(path.join(root, 'input', 'c.txt'), 'The government announced a new plan for farmers on Sunday. Farmers welcomed it.');
    await writeFile(path.join(root, 'input', 'd.txt'), vietnamese(3));
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));

    const result = await run(configFor(root, { concurrency: 4 }), { jsonl: stream });
    const records = text
      .trimEnd()
      .split('\n')
      .map((line) => articleOutputSchema.parse(JSON.parse(line)));
    expect(records.map((r) => [r.id, r.status])).toEqual([
      ['a', 'ok'],
      ['c', 'ok'],
      ['d', 'ok'],
    ]);
    expect(records[1]!.translation.status).toBe('passthrough');
    expect(result.outcomes.map((o) => o.id).indexOf('a')).toBeGreaterThan(result.outcomes.map((o) => o.id).indexOf('c'));
    expect(result.report.articles).toMatchObject({ total: 4, ok: 3, failed: 1 });
    expect(await exists(path.join(root, 'output'))).toBe(false);
  });

  it('stops on abort: finished articles written, the others untouched, the report says interrupted', async () => {
    const root = await workspace();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    // One language: the two articles in flight wait for the same model and go to it in one batch, so
    // whichever is reported first, the other's translation is already running when the stop comes (a
    // stop lands between batches). With a model each, the second could still be loading its model.
    for (const [i, id] of ids.entries()) await writeFile(path.join(root, 'input', `${id}.txt`), arabic(10 + i));
    await mkdir(path.join(root, 'output'));
    await writeFile(path.join(root, 'output', 'e.json'), 'from an earlier run');
    const stop = new AbortController();

    const result = await run(configFor(root, { concurrency: 2 }), { signal: stop.signal, events: { onArticle: () => stop.abort() } });
    // The article that finished and the one in flight beside it.
    expect(result.outcomes.map((o) => o.id).sort()).toEqual(['a', 'b']);
    expect(result.report).toMatchObject({ interrupted: true, articles: { total: 6, ok: 2, notStarted: 4 } });
    expect(await readRunReport(path.join(root, 'output'))).toMatchObject({ interrupted: true });
    expect((await readManifest(path.join(root, 'output'))).map((line) => line.id)).toEqual(['a', 'b']);
    expect((await readOutput(root, 'a')).status).toBe('ok');
    for (const id of ['c', 'd', 'f']) expect(await exists(path.join(root, 'output', `${id}.json`))).toBe(false);
    expect(await readFile(path.join(root, 'output', 'e.json'), 'utf8')).toBe('from an earlier run');
    expect((await readdir(path.join(root, 'output'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the previous manifest lines of the articles an interrupted run never started', async () => {
    const root = await workspace();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const [i, id] of ids.entries())
      await writeFile(path.join(root, 'input', `${id}.txt`), i % 2 ? vietnamese(20 + i) : arabic(20 + i));
    const config = configFor(root, { concurrency: 2 });
    await run(config);
    const before = await readManifest(path.join(root, 'output'));

    const stop = new AbortController();
    await run(config, { force: true, signal: stop.signal, events: { onArticle: () => stop.abort() } });
    const after = await readManifest(path.join(root, 'output'));
    expect(after.map((line) => line.id)).toEqual(ids);
    expect(after.slice(2)).toEqual(before.slice(2));
    const digest = await readDigest(path.join(root, 'output'));
    expect([...digest.querySelectorAll('ol.articles h3 a')].map((a) => a.getAttribute('href'))).toEqual(ids.map((id) => `./${id}.html`));
    expect(digest.querySelector('.problems')!.textContent).toContain('The run was interrupted: 4 articles were not started');
  });

  it('says so when no article matches the input patterns', async () => {
    const root = await workspace();
    const result = await run(configFor(root));
    expect(result.report).toMatchObject({ articles: { total: 0 }, interrupted: false });
    expect(result.problems).toEqual([
      expect.stringMatching(/^no articles match input\.patterns \(.*\/input\/\*\*\/\*\.\{txt,md\}\); check --input or input\.patterns$/),
    ]);
    // A run that processed nothing leaves the manifest as it was: here, not there.
    expect(await exists(path.join(root, 'output', 'manifest.jsonl'))).toBe(false);
    expect((await readRunReport(path.join(root, 'output'))).problems).toEqual(result.problems);
  });

  it('processes nothing when aborted before it starts', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(20));
    const result = await run(configFor(root), { signal: AbortSignal.abort() });
    expect(result.report).toMatchObject({ interrupted: true, articles: { total: 1, notStarted: 1 } });
    expect(await exists(path.join(root, 'output', 'a.json'))).toBe(false);
  });
});

describe('bad input never stops the run', () => {
  let root: string;
  let result: Run;
  let manifest: Map<string, ManifestLine>;
  const maxBytes = 64 * 1024;
  beforeAll(async () => {
    root = await workspace();
    const input = path.join(root, 'input');
    writeBadInputs(input);
    // The long line has a test of its own, below.
    await rm(path.join(input, 'long-line.txt'));
    await writeFile(
      path.join(input, 'too-large.txt'),
      `${ARABIC_ARTICLE}\n\n`.repeat(Math.ceil((2 * maxBytes) / Buffer.byteLength(ARABIC_ARTICLE))),
    );
    await writeFile(path.join(input, 'vanishes.txt'), vietnamese(30));
    await writeFile(path.join(input, 'becomes-folder.txt'), vietnamese(31));
    result = await run(configFor(root, { maxBytes, concurrency: 3 }), {
      events: {
        // Listed, then gone before it is read; or replaced by a folder of the same name.
        onStart: () => {
          rmSync(path.join(input, 'vanishes.txt'));
          rmSync(path.join(input, 'becomes-folder.txt'));
          mkdirSync(path.join(input, 'becomes-folder.txt'));
        },
      },
    });
    manifest = new Map((await readManifest(path.join(root, 'output'))).map((line) => [line.id, line]));
  });

  const expected: [id: string, status: string, reason: string | undefined, message?: RegExp][] = [
    ['empty', 'failed', 'empty', /empty\.txt: the article is empty \(no bytes\); remove the file or give it text/],
    ['whitespace-only', 'failed', 'empty', /whitespace-only\.txt: the article is empty \(only whitespace\)/],
    ['image', 'failed', 'binary', /image\.txt: this is a binary file, not text/],
    ['invalid-utf8', 'partial', 'invalid-utf8', /invalid-utf8\.txt: not valid UTF-8 .* re-save the file as UTF-8/],
    ['utf16le-bom', 'ok', undefined],
    ['utf16be-bom', 'ok', undefined],
    ['utf16le-no-bom', 'ok', undefined],
    ['utf16be-no-bom', 'ok', undefined],
    ['windows-1256', 'ok', undefined],
    ['too-large', 'failed', 'too-large', /too-large\.txt: \d+ bytes is over input\.maxBytes \(65536\); raise input\.maxBytes/],
    ['loop/article', 'ok', undefined],
    ['loop-a', 'failed', 'unreadable', /loop-a\.txt: cannot be read: it is a symlink loop; remove the link/],
    ['loop-b', 'failed', 'unreadable', /loop-b\.txt: cannot be read: it is a symlink loop/],
    ['duplicate-a', 'ok', undefined],
    ['copies/duplicate-b', 'ok', undefined],
    ['persian', 'ok', 'unsupported-language', /no translation model is configured for language "fa"/],
    ['french', 'ok', 'unsupported-language', /no translation model is configured for language "fr"/],
    ['mixed', 'ok', undefined],
    ['vanishes', 'failed', 'unreadable', /vanishes\.txt: cannot be read: it does not exist \(deleted or moved after it was listed/],
    ['becomes-folder', 'failed', 'unreadable', /becomes-folder\.txt: (not a regular file|cannot be read: it is a directory)/],
  ];

  it('lists every file once and gives each the right status and reason', () => {
    expect([...manifest.keys()].sort()).toEqual(expected.map(([id]) => id).sort());
    for (const [id, status, reason, message] of expected) {
      expect({ id, status: manifest.get(id)?.status, reason: manifest.get(id)?.reason }).toEqual({ id, status, reason });
      const outcome = result.outcomes.find((o) => o.id === id)!;
      if (message) expect(outcome.message).toMatch(message);
    }
    const count = (status: string) => expected.filter(([, s]) => s === status).length;
    expect(result.report.articles).toEqual({
      total: expected.length,
      ok: count('ok'),
      partial: count('partial'),
      failed: count('failed'),
      skipped: 0,
      notStarted: 0,
    });
  });

  it('writes outputs for the articles it could read, each from its own file, and none for the others', async () => {
    for (const [id, status] of expected) {
      const line = manifest.get(id)!;
      if (status === 'failed') {
        expect(line.outputs).toEqual({});
        expect(await exists(path.join(root, 'output', `${id}.json`))).toBe(false);
        continue;
      }
      const output = await readOutput(root, id);
      const bytes = await readFile(output.source.path);
      expect(output.source).toMatchObject({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect(path.relative(path.join(root, 'input'), output.source.path).replace(/\.txt$/, '')).toBe(id);
    }
  });

  it('lists every file in the digest with its status, the failed ones unlinked and named among the problems', async () => {
    const digest = await readDigest(path.join(root, 'output'));
    const entries = [...digest.querySelectorAll('ol.articles > li')].map((li) => ({
      id: li.querySelector('.entry-id')!.textContent!,
      status: li.getAttribute('data-status'),
      href: li.querySelector('h3 a')?.getAttribute('href') ?? null,
    }));
    expect(entries.map((entry) => entry.id).sort()).toEqual(expected.map(([id]) => id).sort());
    for (const entry of entries) {
      const line = manifest.get(entry.id)!;
      expect(entry).toEqual({ id: entry.id, status: line.status, href: line.outputs.html ? `./${line.outputs.html}` : null });
    }
    const problems = [...digest.querySelectorAll('.problems li')].map((li) => li.textContent);
    for (const [id, status, reason] of expected.filter(([, status]) => status !== 'ok'))
      expect(problems).toContain(`${id}: ${status} (${reason})`);
  });

  it('decodes UTF-16 with and without a BOM and windows-1256, and translates them', async () => {
    for (const [id, encoding, lang] of [
      ['utf16le-bom', 'utf-16le', 'ar'],
      ['utf16be-bom', 'utf-16be', 'vi'],
      ['utf16le-no-bom', 'utf-16le', 'ar'],
      ['utf16be-no-bom', 'utf-16be', 'vi'],
      ['windows-1256', 'windows-1256', 'ar'],
    ] as const) {
      const output = await readOutput(root, id);
      expect({ id, encoding: output.source.encoding, lang: output.language.lang }).toEqual({ id, encoding, lang });
      expect(output.title).toBe((lang === 'ar' ? ARABIC_ARTICLE : VIETNAMESE_ARTICLE).split('\n')[0]);
      expect(sentences(output).every((s) => s.target !== null)).toBe(true);
    }
  });

  it('translates duplicates under two names alike, and each sentence once', async () => {
    const [a, b] = [await readOutput(root, 'duplicate-a'), await readOutput(root, 'copies/duplicate-b')];
    expect(sentences(b)).toEqual(sentences(a));
    expect(b.source.sha256).toBe(a.source.sha256);
    // Every readable article draws on ARABIC_ARTICLE or VIETNAMESE_ARTICLE; the model saw each distinct sentence once.
    const readable = await Promise.all(expected.filter(([, status]) => status !== 'failed').map(([id]) => readOutput(root, id)));
    // (Including the Arabic paragraphs of the half-English article, which go to the Arabic model.)
    const translated = (o: ArticleOutput) => sentences(o).filter((s) => !s.flags.includes('passthrough') && s.target !== null);
    const toModel = new Set(readable.flatMap((o) => translated(o).map((s) => s.source)));
    expect(result.report.sentencesToModel).toBe(toModel.size);
  });

  it('keeps unsupported languages as they are, never sending Persian to the Arabic model', async () => {
    const persian = await readOutput(root, 'persian');
    expect(persian.language.lang).toBe('fa');
    expect(persian.translation.status).toBe('unsupported-language');
    expect(persian.models).toEqual([]);
    expect(sentences(persian).every((s) => s.target === null)).toBe(true);
  });

  it('translates the Arabic paragraphs of a mostly Arabic article and keeps the English ones, flagged', async () => {
    const mixedRoot = await workspace();
    const english =
      '"We had a very productive meeting and agreed to expand our cooperation on trade and energy," the British minister told reporters.';
    await writeFile(
      path.join(mixedRoot, 'input', 'mixed.txt'),
      [...arabic(60).split('\n').slice(0, 2), english, ...arabic(60).split('\n').slice(2)].join('\n'),
    );
    await run(configFor(mixedRoot, { cachePath: path.join(root, 'cache.sqlite') }));
    const mixed = await readOutput(mixedRoot, 'mixed');
    expect(mixed.language.lang).toBe('ar');
    expect(mixed.paragraphs.map((p) => [p.language.lang, p.flags])).toEqual([
      ['ar', []],
      ['ar', []],
      ['en', ['foreign-language']],
      ['ar', []],
      ['ar', []],
      ['ar', []],
    ]);
    for (const paragraph of mixed.paragraphs) {
      for (const sentence of paragraph.sentences) {
        if (paragraph.flags.includes('foreign-language'))
          expect(sentence).toMatchObject({ target: sentence.source, flags: ['passthrough'] });
        else expect(sentence.target).not.toBe(sentence.source);
      }
    }
  });

  it('translates an article of Arabic, Vietnamese and English with no majority paragraph by paragraph, ok (issue 18)', async () => {
    const mixedRoot = await workspace();
    await writeFile(path.join(mixedRoot, 'input', 'no-majority.txt'), MIXED_PARAGRAPHS.join('\n'));
    const { outcomes } = await run(configFor(mixedRoot, { cachePath: path.join(root, 'cache.sqlite') }));
    expect(outcomes.map((o) => [o.id, o.status, o.reason])).toEqual([['no-majority', 'ok', undefined]]);
    const output = await readOutput(mixedRoot, 'no-majority');
    expect(output.language.lang).toBe('mul');
    expect(output.translation.status).toBe('translated');
    expect(output.models.map((m) => m.lang).sort()).toEqual(['ar', 'vi']);
    expect(output.paragraphs.map((p) => [p.language.lang, p.flags])).toEqual(
      ['ar', 'vi', 'en', 'ar', 'vi', 'en'].map((lang) => [lang, []]),
    );
    expect(sentences(output)).toHaveLength(12);
    for (const paragraph of output.paragraphs) {
      for (const sentence of paragraph.sentences) {
        if (paragraph.language.lang === 'en') expect(sentence).toMatchObject({ target: sentence.source, flags: ['passthrough'] });
        else expect(sentence.target === null || sentence.target === sentence.source, sentence.source).toBe(false);
      }
    }
    const markdown = await readFile(path.join(mixedRoot, 'output', 'no-majority.md'), 'utf8');
    expect(markdown).toContain('language: mul (mixed: ar, vi, en;');
  });

  it('puts a 200,000-character line with no punctuation through every stage as one sentence', async () => {
    const longRoot = await workspace();
    writeBadInputs(path.join(scratch, 'long-line-source'));
    await cp(path.join(scratch, 'long-line-source', 'long-line.txt'), path.join(longRoot, 'input', 'long-line.txt'));
    // Without the Vietnamese model: translating 200,000 characters with it is measured, not tested.
    const result = await run(configFor(longRoot, { modelsDir: path.join(longRoot, 'models') }));
    const output = await readOutput(longRoot, 'long-line');
    expect(output).toMatchObject({ status: 'partial', reason: 'model-unavailable', language: { lang: 'vi' } });
    expect(sentences(output)).toHaveLength(1);
    expect(sentences(output)[0]!.source).toHaveLength(LONG_LINE_CHARS);
    expect(output.summary.indices).toEqual([0]);
    expect(result.report.articles.partial).toBe(1);
  });
});

describe('output that cannot be written', () => {
  it('fails each article with output-error when the output path runs through a file, and still reports', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(40));
    await writeFile(path.join(root, 'input', 'b.txt'), vietnamese(40));
    await writeFile(path.join(root, 'not-a-folder'), 'a file');
    const outputDir = path.join(root, 'not-a-folder', 'output');

    const result = await run(configFor(root, { outputDir }));
    expect(result.report.articles).toMatchObject({ total: 2, failed: 2 });
    expect(result.report.reasons).toEqual({ 'output-error': 2 });
    for (const outcome of result.outcomes) {
      expect(outcome.message).toMatch(
        new RegExp(
          `^cannot write ${outputDir}/${outcome.id}\\.(md|json): ENOTDIR: not a directory.*; part of the output path is a file, not a directory; choose another output directory with --output$`,
        ),
      );
    }
    expect(result.problems).toEqual(
      ['manifest.jsonl', 'index.html', 'run-report.json'].map((name) =>
        expect.stringContaining(`cannot write ${path.join(outputDir, name)}`),
      ),
    );
    expect(result.report.problems).toEqual(result.problems);
  });

  it('on a full disk fails the articles with output-error and leaves their earlier outputs whole', async () => {
    const root = await workspace();
    await writeFile(path.join(root, 'input', 'a.txt'), arabic(50));
    await writeFile(path.join(root, 'input', 'b.txt'), vietnamese(50));
    await run(configFor(root));
    const outputDir = path.join(root, 'output');
    const before = await Promise.all(
      ['a.json', 'a.md', 'a.html', 'b.json', 'b.md', 'b.html', 'manifest.jsonl', 'run-report.json', 'index.html'].map((f) =>
        readFile(path.join(outputDir, f)),
      ),
    );

    diskFull.on = true;
    const full = await run(configFor(root), { force: true });
    diskFull.on = false;
    expect(full.report.articles).toMatchObject({ total: 2, failed: 2 });
    for (const outcome of full.outcomes) {
      expect(outcome).toMatchObject({ status: 'failed', reason: 'output-error' });
      expect(outcome.message).toMatch(/^cannot write .*\/[ab]\.md: ENOSPC: no space left on device, write; free disk space and run again/);
    }
    expect(full.report.problems).toHaveLength(3);
    const after = await Promise.all(
      ['a.json', 'a.md', 'a.html', 'b.json', 'b.md', 'b.html', 'manifest.jsonl', 'run-report.json', 'index.html'].map((f) =>
        readFile(path.join(outputDir, f)),
      ),
    );
    expect(after).toEqual(before);
    expect((await readdir(outputDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    // The earlier outputs are whole and still up to date, so the next run has nothing to redo.
    const next = await run(configFor(root));
    expect(next.report.articles).toMatchObject({ total: 2, skipped: 2 });
  });
});
