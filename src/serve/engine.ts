/** What `serve` loads once and every request shares: the same services `run` loads (src/run/services.ts). */
import type { Logger } from 'pino';
import type { LanguageCode } from '../article.js';
import type { PipelineConfig } from '../config/config.js';
import { TARGET_LANGUAGE } from '../languages.js';
import { installModels, loadServices, type RunServices } from '../run/services.js';
import { SentenceAdmission } from './admission.js';

/** A detection as LibreTranslate gives it: confidence 0–100. */
export interface DetectedLanguage {
  confidence: number;
  language: string;
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
  ) {
    const { maxPendingSentences, requestTimeoutSeconds } = config.serve;
    this.admission = new SentenceAdmission(maxPendingSentences, Math.max(1, Math.ceil(requestTimeoutSeconds / 10)));
  }

  /**
   * Downloads missing models (unless offline, as `run`), then loads every configured model so the
   * first request does not wait for one. A model that cannot be loaded is left out, said through `problem`.
   */
  static async load(config: PipelineConfig, log: Logger, problem: (message: string) => void): Promise<ServeEngine> {
    await installModels(config, {}, problem);
    const services = await loadServices(config, {
      inputRoots: null,
      problem: (_lang, message) => problem(message),
      log,
    });
    const languages: LanguageCode[] = [];
    for (const lang of services.pool.languages()) {
      try {
        await services.pool.get(lang);
        languages.push(lang);
      } catch {
        // Said through `problem` already (the backend's onUnavailable is not reached by a direct get).
        problem(`${lang}: its model could not be loaded, so /languages leaves it out`);
      }
    }
    return new ServeEngine(config, services, languages);
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
   */
  async translate(lang: LanguageCode, sentences: string[], signal: AbortSignal): Promise<string[]> {
    if (sentences.length === 0) return [];
    return this.admission.hold(sentences.length, async () => {
      const { targets } = await this.services.backend.translate(lang, sentences, signal);
      return targets.map((target) => target.target);
    });
  }

  async close(): Promise<void> {
    await this.services.pool.dispose();
    await this.services.memory?.close();
  }
}
