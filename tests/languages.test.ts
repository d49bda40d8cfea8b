import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../src/config/config.js';
import { asciiDigits, guessLanguage, isRightToLeft, languageByCode, LANGUAGES, routedLanguages } from '../src/languages.js';
import { articleOutputSchema } from '../src/output/schema.js';
import { runPipeline } from '../src/run/pipeline.js';

describe('languages', () => {
  it('routes the configured source languages plus English, once each', () => {
    expect(routedLanguages(defaultConfig.translation.models)).toEqual(['ar', 'vi', 'en']);
    expect(routedLanguages({ fr: {}, en: {} })).toEqual(['fr', 'en']);
  });

  it('gives each row a script and a direction, and knows right-to-left languages without a row', () => {
    for (const language of LANGUAGES) expect(['ltr', 'rtl']).toContain(language.direction);
    expect(isRightToLeft('ar')).toBe(true);
    expect(isRightToLeft('fa')).toBe(true);
    expect(isRightToLeft('vi')).toBe(false);
    expect(isRightToLeft('id')).toBe(false);
  });

  it('guesses the language of unlabelled text from its letters', () => {
    expect(guessLanguage('قال الوزير')).toBe('ar');
    expect(guessLanguage('Các trường học')).toBe('vi');
    expect(guessLanguage('The schools closed')).toBe('en');
    expect(guessLanguage('Школы закрыты')).toBeUndefined();
  });
});

/** An Indonesian news article (written for this test). */
const INDONESIAN_ARTICLE = [
  'Pemerintah menaikkan harga bahan bakar minyak',
  'Pemerintah Indonesia mengumumkan kenaikan harga bahan bakar minyak mulai hari Senin depan. Menteri Energi mengatakan bahwa keputusan ini diambil karena harga minyak dunia terus meningkat selama tiga bulan terakhir.',
  'Kenaikan harga tersebut rata-rata sebesar sepuluh persen untuk semua jenis bahan bakar. Pemerintah juga akan memberikan bantuan tunai kepada keluarga miskin di seluruh provinsi.',
  'Beberapa organisasi buruh menyatakan akan menggelar aksi protes di depan gedung parlemen di Jakarta pada minggu ini.',
].join('\n');

describe('a third source language (Indonesian): one translation.models entry, no row in languages.ts', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'newsbridge-languages-'));
    await mkdir(path.join(root, 'input'), { recursive: true });
    await writeFile(path.join(root, 'input', 'bbm.txt'), INDONESIAN_ARTICLE);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('is detected, segmented, translated with its own model and summarized', async () => {
    expect(languageByCode('id')).toBeUndefined();
    const config: PipelineConfig = {
      ...defaultConfig,
      input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(path.join(root, 'input'))}/**/*.txt`] },
      output: { ...defaultConfig.output, dir: path.join(root, 'output') },
      translation: {
        ...defaultConfig.translation,
        models: { ...defaultConfig.translation.models, id: { id: 'Xenova/opus-mt-id-en', revision: 'main' } },
        modelsDir: inject('modelsDir'),
        download: false,
        maxNewTokensRatio: 1,
      },
      cache: { ...defaultConfig.cache, path: path.join(root, 'cache.sqlite') },
    };
    const problems: string[] = [];
    const report = await runPipeline({ config, events: { onProblem: (message) => problems.push(message) } });
    expect(problems).toEqual([]);
    expect(report.articles).toMatchObject({ total: 1, ok: 1 });

    const output = articleOutputSchema.parse(JSON.parse(await readFile(path.join(root, 'output', 'bbm.json'), 'utf8')));
    expect(output.language.lang).toBe('id');
    expect(output.translation.status).toBe('translated');
    expect(output.models).toEqual([
      { lang: 'id', id: 'Xenova/opus-mt-id-en', revision: 'main', dtype: 'q8', weights: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    const body = output.paragraphs.filter((paragraph) => paragraph.kind === 'body');
    expect(body[0]!.sentences.map((sentence) => sentence.source)).toEqual([
      'Pemerintah Indonesia mengumumkan kenaikan harga bahan bakar minyak mulai hari Senin depan.',
      'Menteri Energi mengatakan bahwa keputusan ini diambil karena harga minyak dunia terus meningkat selama tiga bulan terakhir.',
    ]);
    for (const sentence of body.flatMap((paragraph) => paragraph.sentences)) expect(sentence.target).toEqual(expect.any(String));
    expect(output.summary.pairs.length).toBeGreaterThan(0);
  });
});

describe('asciiDigits', () => {
  it('writes Arabic-Indic and Persian digits as ASCII, the decimal separator as a point, the thousands one as asked', () => {
    // ١٢٬٣٤٥٫٦ : 12,345.6 with U+066C and U+066B; ۲۰۲۵ : Persian 2025.
    const written = '\u0661\u0662\u066C\u0663\u0664\u0665\u066B\u0666 \u06F2\u06F0\u06F2\u06F5';
    // As written, for a do-not-translate span the English must copy.
    expect(asciiDigits(written, { thousands: ',' })).toBe('12,345.6 2025');
    // The value, for the check that the English kept the number.
    expect(asciiDigits(written, { thousands: '' })).toBe('12345.6 2025');
    expect(asciiDigits('F-35 in 2025', { thousands: '' })).toBe('F-35 in 2025');
  });
});
