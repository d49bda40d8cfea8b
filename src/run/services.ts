/** What a run loads once and every article shares: the models (downloaded first when missing), the detector, the translation memory and the settings hash. */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { PipelineConfig } from '../config/config.js';
import { routedLanguages } from '../languages.js';
import { configuredModels, modelFiles, pullCommand } from '../models/layout.js';
import { pullModel } from '../models/pull.js';
import { assertModelReady } from '../models/verify.js';
import { LanguageDetector } from '../stages/detect.js';
import { loadRunTerminology } from '../terminology/run-terminology.js';
import { ModelTranslationBackend } from '../translation/backend.js';
import { TranslationMemory, type TranslationStore } from '../translation/memory.js';
import { decodingOptions } from '../translation/translator.js';
import { TranslatorPool } from '../translation/translator-pool.js';
import type { RunOptions } from './pipeline.js';

/** Bumped when the same input and settings would give different outputs, so old outputs are redone. */
const OUTPUT_GENERATION = 1;

/** The services the stages use, loaded once per run and shared by every article. */
export interface RunServices {
  detector: LanguageDetector;
  backend: ModelTranslationBackend;
  pool: TranslatorPool;
  memory: TranslationStore | null;
  /** Hash of everything besides the input bytes that shapes an article's output. */
  settings: string;
  /** Real paths articles may be read from (symlinks out of them are refused); null when any target is allowed. */
  inputRoots: string[] | null;
}

/**
 * Downloads configured models that are missing (the same code as `models pull`), before any article
 * starts, so inference afterwards is always offline. A failed download is a run problem, said once.
 */
export async function installModels(
  config: PipelineConfig,
  options: Pick<RunOptions, 'events' | 'signal'>,
  problem: (message: string) => void,
): Promise<Set<string>> {
  const { translation } = config;
  const failed = new Set<string>();
  for (const model of configuredModels(translation.models, translation.modelsDir)) {
    if (options.signal?.aborted) break;
    const ready = await assertModelReady(model.dir, translation.dtype, model.label).then(
      () => true,
      () => false,
    );
    if (ready || !translation.download) continue;
    try {
      await pullModel({
        id: model.id,
        revision: model.revision,
        modelsDir: translation.modelsDir,
        dtype: translation.dtype,
        mirror: translation.mirror,
        stallMs: translation.downloadStallSeconds * 1000,
        fileDeadlineMs: translation.downloadFileSeconds * 1000,
        signal: options.signal,
        onProgress: (progress) => options.events?.onDownload?.(model, progress),
      });
    } catch (error) {
      failed.add(model.lang);
      problem(
        `${model.lang}: ${model.id} could not be downloaded, so ${model.lang} articles stay untranslated (model-unavailable): ${(error as Error).message}. Fix: run \`${pullCommand(model.lang, translation.modelsDir)}\` where the hub is reachable, or copy the model into ${model.dir}`,
      );
    }
  }
  return failed;
}

/** What `loadServices` needs besides the config. */
export interface ServiceOptions {
  /** Real paths articles may be read from (symlinks out of them are refused); null when any target is allowed. */
  inputRoots: string[] | null;
  /** The run's stop signal; it reaches the Translators, which stop between batches. */
  signal?: AbortSignal;
  /** Whether different calls' sentences share batches; default true (`serve --no-shared-batches` turns it off). */
  batchAcrossCalls?: boolean;
  /** A problem loading a model (`lang`) or the translation memory (`null`). */
  problem(lang: string | null, message: string): void;
  /** Gives the translation memory: by default the SQLite one at `cache.path` when the cache is on. */
  openMemory?: () => TranslationStore | null;
  /** Each batch a model runs is logged here at debug level. */
  log?: Logger;
}

/** Loads the detector, the translation memory and the models' pool for a run. */
export async function loadServices(config: PipelineConfig, options: ServiceOptions): Promise<RunServices> {
  const { inputRoots, signal, problem, log, batchAcrossCalls } = options;
  // First, so a bad glossary (GlossaryError, file:line) stops the run before anything is loaded.
  const terminology = await loadRunTerminology(config.translation);
  const openMemory =
    options.openMemory ??
    (() => (config.cache.enabled ? TranslationMemory.openForRun(config.cache.path, (message) => problem(null, message)) : null));
  const detector = await LanguageDetector.create(routedLanguages(config.translation.models), config.detect);
  let memory: TranslationStore | null = null;
  try {
    memory = openMemory();
  } catch (error) {
    problem(null, `translation memory not used: ${(error as Error).message}`);
  }
  // The pool reports each batch it runs to the backend, which counts them for the run report.
  let backend: ModelTranslationBackend;
  // The run's stop signal reaches the Translators, which stop between batches.
  const pool = new TranslatorPool(
    config.translation,
    {
      onBatch: (batch) => {
        backend.countBatch(batch.sentences);
        log?.debug({ sentences: batch.sentences, ms: Math.round(batch.ms) }, 'model batch');
      },
      onModelLoad: (model) => log?.info({ model: model.id, languages: model.languages }, 'model loaded'),
      signal,
      batchAcrossCalls,
    },
    terminology,
  );
  backend = new ModelTranslationBackend(pool, memory, (lang, error) => problem(lang, `${lang}: ${error.message}`));
  return { detector, backend, pool, memory, settings: await settingsHash(config, memory), inputRoots };
}

/**
 * Everything besides the input bytes that shapes an output: the stages' settings, the output formats
 * and the models (their files' content when the translation memory can hash them cheaply, else their
 * sizes and times; `absent` when not installed, so installing a model redoes the affected articles).
 */
export async function settingsHash(config: PipelineConfig, memory: Pick<TranslationStore, 'fingerprint'> | null): Promise<string> {
  const { translation } = config;
  const models: Record<string, string> = {};
  for (const model of configuredModels(translation.models, translation.modelsDir)) {
    const files = modelFiles(translation.dtype);
    try {
      models[model.lang] = memory
        ? await memory.fingerprint(model.dir, files)
        : (await Promise.all(files.map((file) => stat(path.join(model.dir, file))))).map((s) => `${s.size}:${s.mtimeMs}`).join(',');
    } catch {
      models[model.lang] = 'absent';
    }
  }
  const shaping = {
    generation: OUTPUT_GENERATION,
    formats: config.output.formats,
    clean: config.clean,
    detect: config.detect,
    // The batch budget too: q8 outputs can differ with the batch a sentence shares.
    translation: { models: translation.models, maxArticleChars: translation.maxArticleChars, ...decodingOptions(translation) },
    // A glossary's content, not only its name: an edited glossary redoes its language's articles.
    terminology: { doNotTranslate: translation.doNotTranslate, glossaries: await glossaryDigests(translation.glossary) },
    summary: config.summary,
    models,
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex');
}

async function glossaryDigests(glossary: Record<string, string>): Promise<Record<string, string>> {
  const digests = await Promise.all(
    Object.entries(glossary).map(async ([lang, file]) => {
      const text = await readFile(file).catch(() => 'absent');
      return [lang, createHash('sha256').update(text).digest('hex')] as const;
    }),
  );
  return Object.fromEntries(digests);
}
