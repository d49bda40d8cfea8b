/** What `serve` loads once and every request shares: the same services `run` loads (src/run/services.ts). */
import type { Logger } from 'pino';
import type { LanguageCode } from '../article.js';
import type { PipelineConfig } from '../config/config.js';
import { TARGET_LANGUAGE } from '../languages.js';
import { installModels, loadServices, type RunServices } from '../run/services.js';
import type { Glossary } from '../terminology/glossary.js';
import { loadRunTerminology, type RunTerminology } from '../terminology/run-terminology.js';
import { SentenceAdmission } from './admission.js';
import { withRequestGlossary } from './request-glossary.js';

/** A detection as LibreTranslate gives it: confidence 0–100. */
export interface DetectedLanguage {
  confidence: number;
  language: string;
}

/** Per request: n-best lists and a glossary of its own (docs/serving.md). */
export interface RequestOptions {
  /** How many next-best translations per sentence besides the best; 0 (the default) goes through the memory. */
  alternatives?: number;
  /** Terms the English must carry, over the configured glossary (./request-glossary.ts). */
  glossary?: Glossary;
}

/** Each sentence's English and, when asked for, its next-best translations. */
export interface EngineTranslation {
  targets: string[];
  alternatives: string[][];
}

/**
 * The engine behind every request: one detector, one Translator per language (its inference pool
 * and batcher), one translation memory. Requests' sentences all go through the same batcher, so
 * sentences of concurrent requests share model batches, and the memory answers repeats.
 */
export class ServeEngine {
  readonly admission: SentenceAdmission;

  private constructor(
    readonly config: PipelineConfig,
    readonly services: RunServices,
    /** The source languages whose model loaded: what `/languages` offers. */
    readonly languages: readonly LanguageCode[],
    /** The smallest beam width of the loaded models: a request's alternatives are at most this less one. */
    readonly numBeams: number,
    /** The configured terminology, which a request's glossary adds to. */
    private readonly terminology: RunTerminology,
  ) {
    const { maxPendingSentences, requestTimeoutSeconds } = config.serve;
    this.admission = new SentenceAdmission(maxPendingSentences, Math.max(1, Math.ceil(requestTimeoutSeconds / 10)));
  }

  /**
   * Downloads missing models (unless offline, as `run`), then loads every configured model so the
   * first request does not wait for one. A model that cannot be loaded is left out, said through `problem`.
   * `sharedBatches: false` batches each request's sentences on their own (`serve --no-shared-batches`).
   */
  static async load(
    config: PipelineConfig,
    log: Logger,
    problem: (message: string) => void,
    { sharedBatches = true }: { sharedBatches?: boolean } = {},
  ): Promise<ServeEngine> {
    await installModels(config, {}, problem);
    const services = await loadServices(config, {
      inputRoots: null,
      batchAcrossCalls: sharedBatches,
      problem: (_lang, message) => problem(message),
      log,
    });
    const languages: LanguageCode[] = [];
    let numBeams = Number.POSITIVE_INFINITY;
    for (const lang of services.pool.languages()) {
      try {
        numBeams = Math.min(numBeams, (await services.pool.get(lang)).search.numBeams);
        languages.push(lang);
      } catch {
        // Said through `problem` already (the backend's onUnavailable is not reached by a direct get).
        problem(`${lang}: its model could not be loaded, so /languages leaves it out`);
      }
    }
    const terminology = await loadRunTerminology(config.translation);
    return new ServeEngine(config, services, languages, Number.isFinite(numBeams) ? numBeams : 1, terminology);
  }

  supports(lang: LanguageCode): boolean {
    return this.languages.includes(lang);
  }

  /** The language of a text, as LibreTranslate reports it; too short or unknown is `en` at 0, as LibreTranslate says of text it cannot detect. */
  detect(text: string): DetectedLanguage {
    const guess = this.services.detector.detect(text);
    if (guess.lang === 'und') return { confidence: 0, language: TARGET_LANGUAGE };
    return { confidence: Math.round(guess.confidence * 1000) / 10, language: guess.lang };
  }

  /**
   * Translates sentences of `lang` into English through the shared backend (memory, then the batcher),
   * holding their places in the bounded queue; `signal` (the request's deadline) drops those still queued.
   * Alternatives and a request's own glossary go to the Translator itself: the memory keeps only the
   * best translation under the configured terminology.
   */
  async translate(lang: LanguageCode, sentences: string[], signal: AbortSignal, options: RequestOptions = {}): Promise<EngineTranslation> {
    if (sentences.length === 0) return { targets: [], alternatives: [] };
    const alternatives = options.alternatives ?? 0;
    return this.admission.hold(sentences.length, async () => {
      if (alternatives > 0 || options.glossary) {
        const translator = await this.services.pool.get(lang);
        const { glossary } = options;
        const terminology = glossary
          ? withRequestGlossary(this.terminology.get(lang), glossary, this.config.translation.doNotTranslate)
          : undefined;
        const results = await translator.translate(sentences, signal, { hypotheses: alternatives + 1, terminology });
        return { targets: results.map((result) => result.target), alternatives: results.map((result) => result.alternatives ?? []) };
      }
      const { targets } = await this.services.backend.translate(lang, sentences, signal);
      return { targets: targets.map((target) => target.target), alternatives: [] };
    });
  }

  async close(): Promise<void> {
    await this.services.pool.dispose();
    await this.services.memory?.close();
  }
}
