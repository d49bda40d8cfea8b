/** Model licences: read from the hub's model card or known by family, recorded in the manifest, warned about when non-commercial. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { modelFiles } from '../../src/models/layout.js';
import { isNonCommercial, licenseWarning, modelLicense } from '../../src/models/license.js';
import { MANIFEST_FILE, type ModelManifest } from '../../src/models/manifest.js';
import { Translator } from '../../src/translation/translator.js';
import { tinyTranslatorOptions } from '../helpers/translator-options.js';
import { TINY_M2M100_MODEL } from '../../tools/test-models.js';
import { runCli } from '../cli/cli-run.js';
import { type FakeHub, modelFolderFiles, startHub } from '../helpers/hub.js';

describe('modelLicense', () => {
  it('takes the model card when it has one, else the family the id names', () => {
    expect(modelLicense('Xenova/nllb-200-distilled-600M', null)).toEqual({ id: 'cc-by-nc-4.0', source: 'model family' });
    expect(modelLicense('facebook/nllb-200-3.3B', null)?.id).toBe('cc-by-nc-4.0');
    expect(modelLicense('Xenova/m2m100_418M', null)?.id).toBe('mit');
    expect(modelLicense('Helsinki-NLP/opus-mt-tc-big-ar-en', null)?.id).toBe('cc-by-4.0');
    expect(modelLicense('Xenova/opus-mt-vi-en', null)?.id).toBe('apache-2.0');
    expect(modelLicense('someone/own-model', null)).toBeNull();
    expect(modelLicense('Xenova/nllb-200-distilled-600M', 'other')).toEqual({ id: 'other', source: 'model card' });
  });

  it('calls the Creative Commons NonCommercial licences non-commercial, and only those', () => {
    for (const id of ['cc-by-nc-4.0', 'cc-by-nc-sa-4.0', 'cc-by-nc-nd-3.0'])
      expect(isNonCommercial({ id, source: 'model card' })).toBe(true);
    for (const id of ['cc-by-4.0', 'apache-2.0', 'mit', 'cc-by-sa-4.0']) expect(isNonCommercial({ id, source: 'model card' })).toBe(false);
    expect(licenseWarning('a/b', { id: 'mit', source: 'model card' })).toBeNull();
    expect(licenseWarning('a/b', null)).toBeNull();
  });
});

const NLLB = 'facebook/nllb-200-distilled-600M';
const M2M = 'Xenova/m2m100_418M';
let hub: FakeHub;
let dir: string;
let config: string;

beforeAll(async () => {
  // The generated tiny-m2m100's files served under two hub ids: one whose card gives its licence, one whose card gives none.
  const generated = path.join(inject('modelsDir'), TINY_M2M100_MODEL.id);
  const served = new Map([
    ...(await modelFolderFiles(generated, NLLB, 'main', modelFiles('q8'))),
    ...(await modelFolderFiles(generated, M2M, 'main', modelFiles('q8'))),
  ]);
  hub = await startHub(served);
  hub.cards.set(NLLB, { license: 'cc-by-nc-4.0', language: ['ar', 'vi'] });
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-license-'));
  config = path.join(dir, 'pipeline.yaml');
  await writeFile(
    config,
    `translation:\n  download: false\n  models:\n    ar: { id: ${NLLB}, revision: main }\n    vi: { id: ${M2M}, revision: main }\n`,
  );
});
afterAll(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

describe('models pull and models list on a hub on 127.0.0.1', () => {
  it('records each licence in the manifest and warns about the non-commercial one', async () => {
    const modelsDir = path.join(dir, 'models');
    const pull = await runCli(['models', 'pull', '--mirror', hub.url, '--models-dir', modelsDir, '--config', config]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stderr).toContain(`ar: warning: ${NLLB} is licensed cc-by-nc-4.0 (model card): non-commercial use only`);
    expect(pull.stderr).not.toContain(`${M2M} is licensed`);
    const manifest = async (id: string) => JSON.parse(await readFile(path.join(modelsDir, id, MANIFEST_FILE), 'utf8')) as ModelManifest;
    expect((await manifest(NLLB)).license).toEqual({ id: 'cc-by-nc-4.0', source: 'model card' });
    expect((await manifest(M2M)).license).toEqual({ id: 'mit', source: 'model family' });

    const list = await runCli(['models', 'list', '--models-dir', modelsDir, '--config', config]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/ar {2}facebook\/nllb-200-distilled-600M +q8 @main +covered +cc-by-nc-4\.0 \(non-commercial\)/);
    expect(list.stdout).toMatch(/vi {2}Xenova\/m2m100_418M +q8 @main +covered +mit$/m);
    expect(list.stderr).toContain(`warning: ${NLLB} is licensed cc-by-nc-4.0 (model card): non-commercial use only`);

    // What outputs record as the model: the licence with the weights.
    for (const [lang, id, license] of [
      ['ar', NLLB, 'cc-by-nc-4.0'],
      ['vi', M2M, 'mit'],
    ] as const) {
      const translator = await Translator.load(
        tinyTranslatorOptions(modelsDir, lang, 'q8', {
          modelDir: path.join(modelsDir, id),
          model: { lang, id, revision: 'main', dtype: 'q8' },
        }),
      );
      try {
        expect(translator.model).toMatchObject({ id, license });
      } finally {
        await translator.dispose();
      }
    }
  });

  it('pulls a model configured for two languages once, and warns once', async () => {
    const shared = path.join(dir, 'shared.yaml');
    await writeFile(shared, `translation:\n  download: false\n  models:\n    ar: { id: ${NLLB} }\n    vi: { id: ${NLLB} }\n`);
    const modelsDir = path.join(dir, 'shared-models');
    hub.apiRequests.length = 0;
    const pull = await runCli(['models', 'pull', '--mirror', hub.url, '--models-dir', modelsDir, '--config', shared]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(hub.apiRequests).toHaveLength(1);
    expect(pull.stdout).toContain(`vi: ${NLLB}@main (q8) is the model of ar, pulled above`);
    expect(pull.stderr.match(/is licensed cc-by-nc-4\.0/g)).toHaveLength(1);
  });

  it('lists the family licence of a model not installed yet', async () => {
    const list = await runCli(['models', 'list', '--models-dir', path.join(dir, 'empty'), '--config', config]);
    expect(list.stdout).toMatch(
      /ar {2}facebook\/nllb-200-distilled-600M +not installed +not covered \(q8\) +cc-by-nc-4\.0 \(non-commercial\)/,
    );
    expect(list.stderr).toContain(`warning: ${NLLB} is licensed cc-by-nc-4.0 (model family)`);
  });
});
