import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { parseGlossary } from '../../src/terminology/glossary.js';
import { trimmedOutputIds } from '../../src/translation/output-vocabulary.js';
import { readModelInfo } from '../../src/translation/seq2seq-sessions.js';
import { Translator } from '../../src/translation/translator.js';
import { TranslatorPool } from '../../src/translation/translator-pool.js';
import { tinyTranslatorOptions } from '../helpers/translator-options.js';

/** Real tokenizers and ONNX sessions on the generated tiny models; the English text is a file of this test's own. */

const ENGLISH = ['The minister said the meeting would be held tomorrow.', 'Growth reached 2.4 percent this year.'];

let scratch: string;
let corpus: string;
const modelDir = (...parts: string[]) => path.join(inject('modelsDir'), ...parts);

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-output-vocabulary-'));
  corpus = path.join(scratch, 'english.txt');
  await writeFile(corpus, `${ENGLISH.join('\n')}\n\n`);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('trimmedOutputIds', () => {
  let tokenizer: PreTrainedTokenizer;
  const dir = modelDir('Xenova', 'opus-mt-ar-en');
  beforeAll(async () => {
    tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  });

  it("keeps the English text's pieces, the special tokens and the one-character ASCII pieces, and no other", async () => {
    const kept = await trimmedOutputIds(dir, tokenizer, corpus);
    const info = await readModelInfo(dir);
    const keptSet = new Set(kept);
    expect([...kept]).toEqual([...keptSet].sort((a, b) => a - b));
    const english = ENGLISH.flatMap((line) => tokenizer.encode(line, { add_special_tokens: false }));
    expect(english.filter((id) => !keptSet.has(id))).toEqual([]);
    for (const id of [info.eosId, info.padId, info.decoderStartId, ...Object.values(info.specialIds)]) expect(keptSet.has(id)).toBe(true);
    const vocab = (JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: [string, number][] } }).model
      .vocab;
    const expected = new Set([...english, info.eosId, info.padId, info.decoderStartId, ...Object.values(info.specialIds)]);
    vocab.forEach(([piece], id) => {
      if (/^▁?[\x21-\x7e]?$/u.test(piece)) expected.add(id);
    });
    expect(keptSet).toEqual(expected);
    expect(kept.length).toBeLessThan(info.vocabSize / 2);
    // Arabic pieces are not English: none of a sentence's Arabic-only pieces is kept.
    const arabic = tokenizer.encode('قال الوزير إن الاجتماع سيعقد غدا', { add_special_tokens: false });
    expect(arabic.some((id) => !keptSet.has(id))).toBe(true);
  });

  it('adds the pieces of the extra texts (the glossaries’ English)', async () => {
    const extra = 'Kilmarnock Xylophone';
    const kept = new Set(await trimmedOutputIds(dir, tokenizer, corpus, [extra]));
    expect(tokenizer.encode(extra, { add_special_tokens: false }).every((id) => kept.has(id))).toBe(true);
  });

  it('names the setting and the file when the text is missing or empty', async () => {
    const missing = path.join(scratch, 'absent.txt');
    await expect(trimmedOutputIds(dir, tokenizer, missing)).rejects.toThrow(
      new RegExp(`translation.trimOutputVocabulary: ${missing.replaceAll('.', '\\.')} cannot be read`),
    );
    const empty = path.join(scratch, 'empty.txt');
    await writeFile(empty, '\n  \n');
    await expect(trimmedOutputIds(dir, tokenizer, empty)).rejects.toThrow(/empty\.txt has no text; give an English text file/);
    // A binary file (an ONNX graph given by mistake) is refused at the first line that is not text.
    const binary = path.join(scratch, 'model.onnx');
    await writeFile(binary, Buffer.concat([Buffer.from('The news\n'), Buffer.from([0x08, 0x07, 0x00, 0xff, 0xfe, 0x0a])]));
    await expect(trimmedOutputIds(dir, tokenizer, binary)).rejects.toThrow(/model\.onnx:2 is not UTF-8 text; give an English text file/);
  });
});

describe('a Translator with a trimmed output layer', () => {
  const glossary = parseGlossary('الوزير\tKilmarnock Minister\n', 'ar.tsv');
  let trimmed: Translator;
  let whole: Translator;
  beforeAll(async () => {
    const modelsDir = inject('modelsDir');
    const terminology = { glossary, doNotTranslate: [] };
    [trimmed, whole] = await Promise.all([
      Translator.load(tinyTranslatorOptions(modelsDir, 'ar', 'fp32', { terminology, trimOutputVocabulary: corpus })),
      Translator.load(tinyTranslatorOptions(modelsDir, 'ar', 'fp32', { terminology })),
    ]);
  });
  afterAll(async () => Promise.all([trimmed, whole].map((translator) => translator?.dispose())));

  it('translates, and keys the translation memory apart from the whole layer', async () => {
    const [result] = await trimmed.translate(['وأضاف أن النمو بلغ 2.4 في المئة']);
    expect(result!.target).not.toBe('');
    expect(trimmed.decoding).not.toBe(whole.decoding);
    expect(JSON.parse(trimmed.decoding).outputPieces).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(whole.decoding).outputPieces).toBeUndefined();
    // Each output's models record says the layer was cut, and to how many pieces.
    expect(trimmed.model.outputPieces).toBe(
      (await trimmedOutputIds(trimmed.modelDir, await AutoTokenizer.from_pretrained(trimmed.modelDir), corpus)).length,
    );
    expect(whole.model).not.toHaveProperty('outputPieces');
  });

  it('cannot force what the kept pieces cannot spell: the term goes as a placeholder and still reaches the English', async () => {
    expect(whole.spell('Kilmarnock Minister')).not.toBeNull();
    expect(trimmed.spell('Kilmarnock Minister')).toBeNull();
    const [result] = await trimmed.translate(['قال الوزير إن الاجتماع سيعقد غدا.']);
    expect(result!.target).toContain('Kilmarnock Minister');
    expect(result!.terms).toEqual([{ kind: 'term', source: 'الوزير', target: 'Kilmarnock Minister', present: true }]);
  });
});

describe('TranslatorPool with translation.trimOutputVocabulary', () => {
  it("keeps every language's glossary English spellable on the model they share", async () => {
    const dir = inject('modelsDir');
    const pool = new TranslatorPool(
      {
        ...defaultConfig.translation,
        dtype: 'fp32',
        workers: 1,
        trimOutputVocabulary: corpus,
        models: { ar: { id: 'newsbridge/tiny-m2m100', revision: 'main' }, vi: { id: 'newsbridge/tiny-m2m100', revision: 'main' } },
        modelsDir: dir,
      },
      {},
      new Map([
        ['ar', { glossary: parseGlossary('الوزير\tKilmarnock Minister\n', 'ar.tsv'), doNotTranslate: [] }],
        ['vi', { glossary: parseGlossary('Nhà Trắng\tXylophone House\n', 'vi.tsv'), doNotTranslate: [] }],
      ]),
    );
    try {
      const [ar, vi] = await Promise.all([pool.get('ar'), pool.get('vi')]);
      for (const translator of [ar, vi]) {
        expect(translator.spell('Kilmarnock Minister')).not.toBeNull();
        expect(translator.spell('Xylophone House')).not.toBeNull();
        expect(JSON.parse(translator.decoding).outputPieces).toMatch(/^[0-9a-f]{64}$/);
      }
      const [english] = await vi.translate(['Nhà Trắng nói.']);
      expect(english!.target).toContain('Xylophone House');
    } finally {
      await pool.dispose();
    }
  });
});
