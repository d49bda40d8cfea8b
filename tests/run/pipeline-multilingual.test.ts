import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fg from 'fast-glob';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import { articleOutputSchema, type ArticleOutput } from '../../src/output/schema.js';
import { runPipeline } from '../../src/run/pipeline.js';
import { Translator } from '../../src/translation/translator.js';
import { TINY_M2M100_MODEL } from '../../tools/test-models.js';
import { ARABIC_ARTICLE, VIETNAMESE_ARTICLE } from '../helpers/bad-inputs.js';

/**
 * A run with `ar` and `vi` both on one generated M2M-100 model (NLLB-200's language codes): the model
 * is loaded once, and each article's English is the model's, as a Translator for its language gives it.
 */

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-multilingual-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('one multilingual model for two languages in a run', () => {
  it('loads tiny-m2m100 once and translates an ar and a vi article with it', async () => {
    await mkdir(path.join(scratch, 'input'));
    await writeFile(path.join(scratch, 'input', 'ar-article.txt'), `${ARABIC_ARTICLE}\n`);
    await writeFile(path.join(scratch, 'input', 'vi-article.txt'), `${VIETNAMESE_ARTICLE}\n`);
    const spec = { id: TINY_M2M100_MODEL.id, revision: 'main' };
    const config: PipelineConfig = {
      ...defaultConfig,
      input: { ...defaultConfig.input, patterns: [`${fg.convertPathToPattern(path.join(scratch, 'input'))}/*.txt`] },
      output: { ...defaultConfig.output, dir: path.join(scratch, 'output') },
      translation: {
        ...defaultConfig.translation,
        modelsDir: inject('modelsDir'),
        download: false,
        models: { ar: spec, vi: spec },
        maxNewTokensRatio: 1,
      },
      cache: { ...defaultConfig.cache, enabled: false },
    };
    const lines: { msg: string; model?: string; languages?: string[] }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()));
          done();
        },
      }),
    );
    const report = await runPipeline({ config, log });
    expect(report.outputs.failed).toBe(0);
    expect(lines.filter((line) => line.msg === 'model loaded')).toEqual([
      expect.objectContaining({ model: TINY_M2M100_MODEL.id, languages: ['ar', 'vi'] }),
    ]);

    for (const [name, lang] of [
      ['ar-article', 'ar'],
      ['vi-article', 'vi'],
    ] as const) {
      const output: ArticleOutput = articleOutputSchema.parse(
        JSON.parse(await readFile(path.join(scratch, 'output', `${name}.json`), 'utf8')),
      );
      expect(output.language.lang).toBe(lang);
      expect(output.translation.status).toBe('translated');
      expect(output.models).toEqual([expect.objectContaining({ id: TINY_M2M100_MODEL.id, lang })]);
      const sentences = output.paragraphs.flatMap((paragraph) => paragraph.sentences);
      const translator = await Translator.load({
        modelDir: path.join(inject('modelsDir'), TINY_M2M100_MODEL.id),
        model: { lang, id: TINY_M2M100_MODEL.id, revision: 'main', dtype: config.translation.dtype },
        dtype: config.translation.dtype,
        batchTokens: config.translation.batchTokens,
        maxInputTokens: config.translation.maxInputTokens,
        maxNewTokensRatio: 1,
        noRepeatNgramSize: config.translation.noRepeatNgramSize,
        repetitionPenalty: config.translation.repetitionPenalty,
        threadsPerWorker: 1,
        // What the run gives each language by default: numbers and the like copied through.
        terminology: { doNotTranslate: config.translation.doNotTranslate },
      });
      try {
        // One at a time: per-row q8 makes a sentence's English independent of its batch mates.
        for (const sentence of sentences) {
          const [alone] = await translator.translate([sentence.source]);
          expect(sentence.target).toBe(alone!.target);
          expect(sentence.target).not.toBe('');
        }
      } finally {
        await translator.dispose();
      }
    }
  });
});
