/**
 * The Translators of a run: one per configured language, and one loaded model per model folder.
 */
import type { LanguageCode } from '../article.js';
import { configuredModels, type ConfiguredModel } from '../models/layout.js';
import type { TerminologySettings } from '../terminology/terminology.js';
import { decodingOptions, type TranslationConfig, Translator, type TranslatorOptions } from './translator.js';

/** What a TranslatorPool tells its owner besides each batch: each model it loads, once, with the languages it serves. */
export interface TranslatorPoolHooks extends Pick<TranslatorOptions, 'onBatch' | 'signal' | 'batchAcrossCalls'> {
  onModelLoad?: (model: { id: string; dir: string; languages: LanguageCode[] }) => void;
}

/**
 * One Translator per configured language, loaded on first use and shared. Languages configured with
 * the same model (one folder: an NLLB-200 or M2M-100 model for ar and vi) load it once, into one
 * inference pool and one batcher, so their sentences share batches. Concurrent `get`s share one load;
 * a failed load is kept and the same error is returned to every later `get`, so the pipeline reports
 * it once per language instead of trying again for every article.
 */
export class TranslatorPool {
  private readonly loads = new Map<LanguageCode, Promise<Translator>>();
  /** One load per model folder; the settings (dtype, search, workers) are the pool's, the same for every language. */
  private readonly modelLoads = new Map<string, Promise<Translator>>();
  private readonly models: Map<LanguageCode, ConfiguredModel>;

  constructor(
    private readonly config: TranslationConfig & { modelsDir: string },
    private readonly extra: TranslatorPoolHooks = {},
    /** Each language's glossary and do-not-translate spans; a language not in it is unconstrained. */
    private readonly terminology: ReadonlyMap<LanguageCode, TerminologySettings> = new Map(),
  ) {
    this.models = new Map(configuredModels(config.models, config.modelsDir).map((model) => [model.lang, model]));
  }

  languages(): LanguageCode[] {
    return [...this.models.keys()];
  }

  get(lang: LanguageCode): Promise<Translator> {
    let load = this.loads.get(lang);
    if (!load) {
      const model = this.models.get(lang);
      if (!model) return Promise.reject(new Error(`no translation model is configured for language "${lang}"`));
      const terminology = this.terminology.get(lang);
      load = this.loadModel(model).then((loaded) => (loaded.model.lang === lang ? loaded : loaded.forLanguage(lang, terminology)));
      // Handled here so a load nobody awaits yet is not an unhandled rejection; callers still get it.
      load.catch(() => undefined);
      this.loads.set(lang, load);
    }
    return load;
  }

  /** The model of `model.dir`, loaded once, as the Translator of the first language that asked for it. */
  private loadModel(model: ConfiguredModel): Promise<Translator> {
    let load = this.modelLoads.get(model.dir);
    if (!load) {
      const { onModelLoad, ...extra } = this.extra;
      const languages = [...this.models.values()].filter((other) => other.dir === model.dir).map((other) => other.lang);
      load = Translator.load({
        modelDir: model.dir,
        model: { lang: model.lang, id: model.id, revision: model.revision, dtype: this.config.dtype },
        ...decodingOptions(this.config),
        workers: this.config.workers,
        threadsPerWorker: this.config.threadsPerWorker,
        // A load error is every language's of this model: the label names them all (the fix pulls it for each).
        label: languages.length > 1 ? { ...model.label, name: `${model.id} (${languages.join(', ')})` } : model.label,
        terminology: this.terminology.get(model.lang),
        // A trimmed output layer keeps what every language of this model must be able to write.
        outputVocabularyTexts: languages.flatMap(
          (lang) => this.terminology.get(lang)?.glossary?.entries.map((entry) => entry.target) ?? [],
        ),
        ...extra,
      });
      load.then(
        () => onModelLoad?.({ id: model.id, dir: model.dir, languages }),
        () => undefined,
      );
      this.modelLoads.set(model.dir, load);
    }
    return load;
  }

  async dispose(): Promise<void> {
    const loaded = await Promise.allSettled(this.modelLoads.values());
    this.loads.clear();
    this.modelLoads.clear();
    await Promise.all(loaded.map((result) => (result.status === 'fulfilled' ? result.value.dispose() : undefined)));
  }
}
