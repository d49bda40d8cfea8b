/**
 * Where a model's files live: configured models are in `<modelsDir>/<id>/` (the transformers.js
 * local-model convention), and a dtype needs a fixed set of files in that folder.
 */
import fg from 'fast-glob';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LanguageCode } from '../article.js';
import { HUB_MODEL_ID, MODEL_DTYPES, type ModelDtype, type ModelSpec } from '../config/config.js';
import type { ModelLabel } from '../errors.js';
import { fileSize } from './files.js';
import { readManifest, type ModelManifest } from './manifest.js';

const COMMON_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];
const ONNX_PARTS = ['encoder_model', 'decoder_model_merged'];
/** transformers.js loads `onnx/<part><suffix>.onnx` for a dtype. */
const DTYPE_SUFFIX: Record<ModelDtype, string> = { fp32: '', q8: '_quantized' };

/** The files a MarianMT export needs to run with the given dtype, relative to the model folder. */
export function modelFiles(dtype: ModelDtype): string[] {
  return [...COMMON_FILES, ...ONNX_PARTS.map((part) => `onnx/${part}${DTYPE_SUFFIX[dtype]}.onnx`)];
}

/**
 * The ONNX external data files (`<graph>_data`, then `<graph>_data_1`, …) of a dtype's graphs that a
 * config.json lists under `transformers.js_config.use_external_data_format`, as transformers.js reads
 * it (a count of chunks per graph file, or `true` for one): the weights of graphs over 2 GB.
 */
export function externalDataFiles(config: Record<string, unknown>, dtype: ModelDtype): string[] {
  const listed = (config['transformers.js_config'] as { use_external_data_format?: unknown } | undefined)?.use_external_data_format;
  if (!listed || typeof listed !== 'object') return [];
  return ONNX_PARTS.flatMap((part) => {
    const graph = `${part}${DTYPE_SUFFIX[dtype]}.onnx`;
    const chunks = Number((listed as Record<string, unknown>)[graph] ?? 0);
    return Array.from({ length: chunks }, (_, i) => `onnx/${graph}_data${i === 0 ? '' : `_${i}`}`);
  });
}

/**
 * The files a dtype needs in this model folder: `modelFiles(dtype)` and the external data its
 * config.json lists, so the weights' fingerprint and the checks before loading cover them too.
 */
export async function modelFilesIn(modelDir: string, dtype: ModelDtype): Promise<string[]> {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // No readable config.json: the checks of modelFiles report it.
    return modelFiles(dtype);
  }
  return [...modelFiles(dtype), ...externalDataFiles(config, dtype)];
}

/**
 * `<modelsDir>/<id>/`, absolute. The config only lets hub-style ids through; this refuses anything
 * that would still resolve outside the models folder (or onto it), whoever calls it.
 */
export function modelDirOf(modelsDir: string, id: string): string {
  const root = path.resolve(modelsDir);
  const dir = path.resolve(root, ...id.split('/'));
  const inside = path.relative(root, dir);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside) || !HUB_MODEL_ID.test(id)) {
    throw new Error(
      `model id "${id}" is not a hub id (owner/name: letters, digits, -, _ and .; no ..) and would not stay inside the models folder ${root}; fix translation.models in the config`,
    );
  }
  return dir;
}

/** The command that installs a configured model. */
export function pullCommand(lang: LanguageCode, modelsDir: string): string {
  return `newsbridge models pull --only ${lang} --models-dir ${path.resolve(modelsDir)}`;
}

/** A configured model with what the store needs to find it and name it in messages. */
export interface ConfiguredModel extends ModelSpec {
  lang: LanguageCode;
  dir: string;
  label: ModelLabel;
}

export function configuredModels(models: Record<LanguageCode, ModelSpec>, modelsDir: string): ConfiguredModel[] {
  return Object.entries(models).map(([lang, spec]) => ({
    lang,
    ...spec,
    dir: modelDirOf(modelsDir, spec.id),
    label: { name: `${spec.id} (${lang})`, fix: `run \`${pullCommand(lang, modelsDir)}\`` },
  }));
}

export interface InstalledModel {
  /** Path relative to the models dir, which is the model id for models in the hub layout. */
  id: string;
  dir: string;
  /** dtypes whose files are all present. */
  dtypes: ModelDtype[];
  manifest: ModelManifest | null;
}

/** Model folders under the models dir (`<id>/config.json`, ids of one or two path parts). */
export async function listModels(modelsDir: string): Promise<InstalledModel[]> {
  const root = path.resolve(modelsDir);
  const configs = await fg(['*/config.json', '*/*/config.json'], { cwd: root, onlyFiles: true });
  const models: InstalledModel[] = [];
  for (const config of configs.sort()) {
    const id = path.posix.dirname(config);
    const dir = path.join(root, id);
    const dtypes: ModelDtype[] = [];
    for (const dtype of MODEL_DTYPES) {
      const sizes = await Promise.all((await modelFilesIn(dir, dtype)).map((file) => fileSize(path.join(dir, file))));
      if (sizes.every((size) => size !== null)) dtypes.push(dtype);
    }
    models.push({ id, dir, dtypes, manifest: await readManifest(dir) });
  }
  return models;
}
