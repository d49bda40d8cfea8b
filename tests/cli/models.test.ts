import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { modelFiles } from '../../src/models/layout.js';
import { MANIFEST_FILE, type ModelManifest } from '../../src/models/manifest.js';
import { modelFolderFiles, startHub, type FakeHub } from '../helpers/hub.js';
import { runCli } from './cli-run.js';

const ID = 'Xenova/opus-mt-ar-en';
const ENCODER = 'onnx/encoder_model_quantized.onnx';

let hub: FakeHub;
let dir: string;
let modelsDir: string;
let config: string;

beforeAll(async () => {
  const generated = path.join(inject('modelsDir'), ID);
  hub = await startHub(await modelFolderFiles(generated, ID, 'main', modelFiles('q8')));
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-models-cli-'));
  modelsDir = path.join(dir, 'models');
  config = path.join(dir, 'pipeline.yaml');
  await writeFile(config, 'translation:\n  download: false\n');
});
afterAll(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

describe('newsbridge models and translate, end to end against a hub on 127.0.0.1', () => {
  it('pulls a model (resuming a cut download), then translates with the hub gone', async () => {
    hub.cutNextResponse(`/${ID}/resolve/main/${ENCODER}`, 40_000);
    const pull = await runCli(['models', 'pull', '--only', 'ar', '--mirror', hub.url, '--models-dir', modelsDir, '--config', config]);
    expect(pull.stderr).toContain(`ar: ${ENCODER} downloaded`);
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain(`ar: ${ID}@main (q8) is installed in ${path.join(modelsDir, 'Xenova', 'opus-mt-ar-en')}`);
    expect(hub.requests.filter((r) => r.path.endsWith(ENCODER)).map((r) => r.range)).toEqual([undefined, 'bytes=40000-']);
    const manifest = JSON.parse(await readFile(path.join(modelsDir, ID, MANIFEST_FILE), 'utf8')) as ModelManifest;
    expect(Object.keys(manifest.files).sort()).toEqual(modelFiles('q8').sort());

    await hub.close();
    const translate = await runCli(
      ['translate', '--from', 'ar', '--models-dir', modelsDir, '--config', config],
      'قال رئيس الوزراء إن الاجتماع سيعقد غدا. وأضاف أن الحكومة مستعدة.\n\nمرحبا\n',
    );
    expect(translate.code).toBe(0);
    const lines = translate.stdout.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]!.length).toBeGreaterThan(0);
    expect(lines[1]).toBe('');
    expect(lines[2]!.length).toBeGreaterThan(0);
    expect(lines[3]).toBe('');
    // The random weights loop; the flag is reported, never silent.
    expect(translate.stderr).toMatch(/^line 1, sentence 1: .*repetition-loop/m);

    const list = await runCli(['models', 'list', '--models-dir', modelsDir, '--config', config]);
    expect(list.stdout).toMatch(/ar {2}Xenova\/opus-mt-ar-en +q8 @main +covered/);
    expect(list.stdout).toMatch(/vi {2}Xenova\/opus-mt-vi-en +not installed +not covered \(q8\)/);

    const encoder = path.join(modelsDir, ID, ENCODER);
    const bytes = await readFile(encoder);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    await writeFile(encoder, bytes);
    const verify = await runCli(['models', 'verify', '--only', 'ar', '--models-dir', modelsDir, '--config', config]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`model ${ID} (ar) is unavailable: ${encoder} has sha256 `);
    expect(verify.stderr).toContain(`Fix: run \`newsbridge models pull --only ar --models-dir ${modelsDir}\``);
  });

  it('says what to check when the hub has no such model', async () => {
    const mirror = await startHub(new Map());
    try {
      const pull = await runCli(['models', 'pull', '--only', 'vi', '--mirror', mirror.url, '--models-dir', modelsDir, '--config', config]);
      expect(pull.code).toBe(1);
      expect(pull.stderr).toContain(
        `vi: ${mirror.url}/Xenova/opus-mt-vi-en/resolve/main/config.json answered 404 Not Found: ` +
          'check the model id and revision in pipeline.yaml (translation.models) and the mirror URL',
      );
    } finally {
      await mirror.close();
    }
  });
});
