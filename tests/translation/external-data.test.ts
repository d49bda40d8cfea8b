import { cp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoModelForSeq2SeqLM, AutoTokenizer, Tensor } from '@huggingface/transformers';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LanguageCode } from '../../src/article.js';
import type { ModelDtype } from '../../src/config/config.js';
import { ModelUnavailableError } from '../../src/errors.js';
import { modelFiles, modelFilesIn } from '../../src/models/layout.js';
import { MANIFEST_FILE, type ModelManifest } from '../../src/models/manifest.js';
import { pullModel } from '../../src/models/pull.js';
import { assertModelReady } from '../../src/models/verify.js';
import { withInlinedExternalData } from '../../src/translation/external-data.js';
import type { Q8Activations } from '../../src/translation/seq2seq-sessions.js';
import { Translator, weightsFingerprint } from '../../src/translation/translator.js';
import { makeModel } from '../../tools/make-model.js';
import { TINY_M2M100_MODEL, testModelOptions } from '../../tools/test-models.js';
import { ARABIC_ARTICLE, VIETNAMESE_ARTICLE } from '../helpers/bad-inputs.js';
import { modelFolderFiles, startHub } from '../helpers/hub.js';
import { tinyTranslatorOptions } from '../helpers/translator-options.js';

const { onnx } = onnxProto;

/**
 * A model whose weights are ONNX external data (`onnx/<file>.onnx_data`), as NLLB-200-600M's export
 * has them: tiny-m2m100 generated with the same seed in that layout translates exactly as the
 * tiny-m2m100 the other tests use, in fp32 and in q8 with either activation quantization.
 */

const external = path.join(tmpdir(), `newsbridge-external-data-${process.pid}`, 'tiny-m2m100');
const inline = () => path.join(inject('modelsDir'), TINY_M2M100_MODEL.id);
const SENTENCES: Record<LanguageCode, string[]> = { ar: ARABIC_ARTICLE.split('\n'), vi: VIETNAMESE_ARTICLE.split('\n') };

beforeAll(async () => {
  await makeModel({ ...testModelOptions(TINY_M2M100_MODEL), out: external, externalData: true });
});
afterAll(() => rm(path.dirname(external), { recursive: true, force: true }));

function load(modelDir: string, lang: LanguageCode, dtype: ModelDtype, q8Activations: Q8Activations): Promise<Translator> {
  return Translator.load({
    modelDir,
    model: { lang, id: TINY_M2M100_MODEL.id, revision: 'main', dtype },
    dtype,
    q8Activations,
    batchTokens: 4096,
    maxInputTokens: 512,
    maxNewTokensRatio: 1,
    numBeams: 1,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
    threadsPerWorker: 1,
  });
}

describe('ONNX external data', () => {
  it('writes every graph with its weights in <file>_data and lists them in config.json, as transformers.js expects', async () => {
    const files = (await readdir(path.join(external, 'onnx'))).sort();
    expect(files).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged.onnx_data',
      'decoder_model_merged_quantized.onnx',
      'decoder_model_merged_quantized.onnx_data',
      'encoder_model.onnx',
      'encoder_model.onnx_data',
      'encoder_model_quantized.onnx',
      'encoder_model_quantized.onnx_data',
    ]);
    const config = JSON.parse(await readFile(path.join(external, 'config.json'), 'utf8'));
    expect(Object.keys(config['transformers.js_config'].use_external_data_format).sort()).toEqual(
      files.filter((file) => file.endsWith('.onnx')),
    );
    // The graph file holds the graph, not the weights.
    const graph = (await stat(path.join(external, 'onnx', 'decoder_model_merged.onnx'))).size;
    const weights = (await stat(path.join(external, 'onnx', 'decoder_model_merged.onnx_data'))).size;
    expect(graph).toBeLessThan(weights / 4);
  });

  it.each([
    ['fp32', 'per-row'],
    ['q8', 'per-row'],
    ['q8', 'per-batch'],
  ] as const)('a Translator on it (%s, %s activations) translates as on the same weights inline', async (dtype, q8Activations) => {
    for (const lang of ['ar', 'vi']) {
      const [fromExternal, fromInline] = await Promise.all([
        load(external, lang, dtype, q8Activations),
        load(inline(), lang, dtype, q8Activations),
      ]);
      try {
        const [ours, reference] = await Promise.all([fromExternal.translate(SENTENCES[lang]!), fromInline.translate(SENTENCES[lang]!)]);
        expect(ours.map((translation) => translation.target)).toEqual(reference.map((translation) => translation.target));
        expect(ours.every((translation) => translation.targetTokens > 0)).toBe(true);
      } finally {
        await Promise.all([fromExternal.dispose(), fromInline.dispose()]);
      }
    }
  });

  it('transformers.js loads it too and writes what our Translator writes (fp32)', async () => {
    const [tokenizer, model, translator] = await Promise.all([
      AutoTokenizer.from_pretrained(external, { local_files_only: true }),
      AutoModelForSeq2SeqLM.from_pretrained(external, { local_files_only: true, dtype: 'fp32', session_options: { intraOpNumThreads: 1 } }),
      load(external, 'vi', 'fp32', 'per-row'),
    ]);
    try {
      const sentence = SENTENCES.vi![1]!;
      const ids = translator.tokenize(sentence);
      const output = (await model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
        max_new_tokens: ids.length + 8,
        num_beams: 1,
        forced_bos_token_id: tokenizer.encode('eng_Latn', { add_special_tokens: false })[0],
      })) as Tensor;
      const theirs = tokenizer.decode((output.tolist() as bigint[][])[0]!.map(Number), { skip_special_tokens: true }).trim();
      const [ours] = await translator.translate([sentence]);
      expect(ours!.target).toBe(theirs);
    } finally {
      await Promise.all([model.dispose(), translator.dispose()]);
    }
  });
});

describe('external data in the model store', () => {
  const DATA = 'onnx/decoder_model_merged.onnx_data';

  it('counts the data files among the files a dtype needs, its fingerprint and the check before loading', async () => {
    expect(await modelFilesIn(external, 'fp32')).toEqual([
      ...modelFiles('fp32'),
      'onnx/encoder_model.onnx_data',
      'onnx/decoder_model_merged.onnx_data',
    ]);
    expect(await modelFilesIn(inline(), 'fp32')).toEqual(modelFiles('fp32'));
    const copy = path.join(path.dirname(external), 'changed');
    await cp(external, copy, { recursive: true });
    // Other weights under the same graph file: the fingerprint, and so the translation memory's key, changes.
    const bytes = await readFile(path.join(copy, DATA));
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(path.join(copy, DATA), bytes);
    expect(await weightsFingerprint(copy, 'fp32')).not.toBe(await weightsFingerprint(external, 'fp32'));
    await unlink(path.join(copy, DATA));
    const error = await assertModelReady(copy, 'fp32', { name: 'tiny', fix: 'pull it' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toContain(`${path.join(copy, DATA)} is missing`);
  });

  it('models pull fetches the data files config.json lists and records them; the pulled model translates', async () => {
    const id = 'facebook/nllb-200-distilled-600M';
    const files = await modelFilesIn(external, 'fp32');
    const hub = await startHub(await modelFolderFiles(external, id, 'main', files));
    const modelsDir = path.join(path.dirname(external), 'models');
    try {
      await pullModel({ id, revision: 'main', modelsDir, dtype: 'fp32', mirror: hub.url, retryDelayMs: 1 });
    } finally {
      await hub.close();
    }
    const manifest = JSON.parse(await readFile(path.join(modelsDir, id, MANIFEST_FILE), 'utf8')) as ModelManifest;
    expect(Object.keys(manifest.files).sort()).toEqual([...files].sort());
    const [pulled, original] = await Promise.all([
      load(path.join(modelsDir, id), 'ar', 'fp32', 'per-row'),
      load(external, 'ar', 'fp32', 'per-row'),
    ]);
    try {
      const [ours, reference] = await Promise.all([pulled.translate(SENTENCES.ar!), original.translate(SENTENCES.ar!)]);
      expect(ours.map((t) => t.target)).toEqual(reference.map((t) => t.target));
    } finally {
      await Promise.all([pulled.dispose(), original.dispose()]);
    }
  });
});

describe('rewriting a graph whose weights are external data', () => {
  it('refuses, naming the file and the fix, a graph too big for one protobuf once its data is put back', async () => {
    const file = path.join(external, 'onnx', 'decoder_model_merged.onnx');
    const model = onnx.ModelProto.decode(await readFile(file));
    const tensor = model.graph!.initializer!.find((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)!;
    // What NLLB-200-600M's fp32 decoder declares: more than 2 GiB in its _data file.
    tensor.externalData = tensor.externalData!.map((entry) =>
      entry.key === 'length' ? { key: 'length', value: String(3 * 2 ** 30) } : entry,
    );
    const bytes = onnx.ModelProto.encode(model).finish();
    await expect(withInlinedExternalData(bytes, file)).rejects.toThrow(
      /decoder_model_merged\.onnx: its 3\.0 GiB of weights cannot be held in one protobuf .*use the q8 model, or turn the rewrite off/,
    );
  });

  it('cuts the output layer of a model kept as external data, and it translates', async () => {
    const corpus = path.join(path.dirname(external), 'english.txt');
    await writeFile(corpus, 'The minister said the meeting would be held tomorrow.\n');
    const trimmed = await Translator.load({
      ...tinyTranslatorOptions(inject('modelsDir'), 'ar', 'fp32'),
      modelDir: external,
      model: { lang: 'ar', id: TINY_M2M100_MODEL.id, revision: 'main', dtype: 'fp32' },
      trimOutputVocabulary: corpus,
    });
    try {
      const results = await trimmed.translate(SENTENCES.ar!.slice(0, 2));
      expect(results.every((result) => result.target !== '')).toBe(true);
    } finally {
      await trimmed.dispose();
    }
  });
});
