import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { architectureFromConfig } from '../../src/models/convert/architecture.js';
import { readModelInfo } from '../../src/translation/seq2seq-sessions.js';
import { TEST_MODELS, TINY_M2M100_MODEL } from '../../tools/test-models.js';

/** readModelInfo reads config.json with the converter's reader (architectureFromConfig): one place for both. */

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'newsbridge-model-info-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** A copy of a generated model's config.json and tokenizer.json, config.json changed by `edit`. */
async function modelWithConfig(id: string, edit: (config: Record<string, unknown>) => void): Promise<string> {
  const dir = path.join(work, `${id.replace('/', '_')}-${Math.random().toString(36).slice(2)}`);
  const source = path.join(inject('modelsDir'), id);
  await cp(path.join(source, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const config = JSON.parse(await readFile(path.join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('readModelInfo', () => {
  it.each([TEST_MODELS[0].id, TINY_M2M100_MODEL.id])('takes the shapes architectureFromConfig reads (%s)', async (id) => {
    const dir = path.join(inject('modelsDir'), id);
    const info = await readModelInfo(dir);
    const architecture = architectureFromConfig(JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')));
    expect(info.family).toBe(architecture.family);
    expect(info).toMatchObject({
      decoderLayers: architecture.decoderLayers,
      heads: architecture.decoderHeads,
      headDim: architecture.dModel / architecture.decoderHeads,
      vocabSize: architecture.decoderVocabSize,
      padId: architecture.padTokenId,
    });
  });

  it("gives the decoder's vocabulary as the logits' width when a Marian model has separate vocabularies", async () => {
    const dir = await modelWithConfig(TEST_MODELS[0].id, (config) => {
      config.share_encoder_decoder_embeddings = false;
      config.decoder_vocab_size = 321;
    });
    expect((await readModelInfo(dir)).vocabSize).toBe(321);
  });

  it('names config.json and the families it runs for another model_type', async () => {
    const dir = await modelWithConfig(TEST_MODELS[0].id, (config) => {
      config.model_type = 't5';
    });
    await expect(readModelInfo(dir)).rejects.toThrow(
      `${path.join(dir, 'config.json')}: model_type "t5" is not supported; newsbridge runs "marian" (OPUS-MT) and "m2m_100" (M2M-100, NLLB-200)`,
    );
  });
});
