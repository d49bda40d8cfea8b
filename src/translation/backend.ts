import { createHash } from 'node:crypto';
import type { LanguageCode, ModelUse } from '../article.js';
import type { ModelDtype } from '../config/config.js';
import type { ModelKey, TranslationEntry, TranslationStore } from './memory.js';
import { modelFilesIn } from '../models/layout.js';
import type { SentenceTarget, TranslationBackend } from '../stages/translate.js';
import type { TranslateCallOptions, Translator } from './translator.js';
import type { TranslatorPool } from './translator-pool.js';

/** What went to the models during a run, for the run report. */
export interface ModelUsage {
  /** Batches the models ran. */
  modelCalls: number;
  /** Model inputs (sentences, or pieces of over-long ones) in those batches. */
  sentencesToModel: number;
  /** Sentences answered by the translation memory, or by the same sentence in flight for another article. */
  cacheHits: number;
}

/**
 * The translate stage's backend for real runs: the shared Translator pool behind the translation
 * memory, so a sentence a model has translated once is never sent to that model again. Identical
 * sentences within a request, or in requests in flight at the same time, are translated once.
 */
export class ModelTranslationBackend implements TranslationBackend {
  readonly usage: ModelUsage = { modelCalls: 0, sentencesToModel: 0, cacheHits: 0 };
  private readonly keys = new Map<LanguageCode, Promise<ModelKey>>();

  private readonly unavailable = new Set<LanguageCode>();
  /** Per language: sentences sent to the model and not back yet, with their translation to come. */
  private readonly inFlight = new Map<LanguageCode, Map<string, Promise<SentenceTarget>>>();
  /** Each in-flight translation's stop: the signal of the call that sent it to the model. */
  private readonly owners = new WeakMap<Promise<SentenceTarget>, AbortSignal | undefined>();

  /** `onUnavailable` hears once per language that its model cannot be loaded. */
  constructor(
    private readonly pool: TranslatorPool,
    private readonly memory: TranslationStore | null,
    private readonly onUnavailable?: (lang: LanguageCode, error: Error) => void,
  ) {}

  /** Counts a batch the Translator ran; pass it as the pool's `onBatch`. */
  countBatch(sentences: number): void {
    this.usage.modelCalls += 1;
    this.usage.sentencesToModel += sentences;
  }

  supports(lang: LanguageCode): boolean {
    return this.pool.languages().includes(lang);
  }

  /**
   * `signal`: the caller's own stop (a server request's deadline); its sentences still queued are dropped.
   * `doNotTranslate`: the texts the sentences' page marks not to be translated.
   */
  async translate(
    lang: LanguageCode,
    sentences: string[],
    signal?: AbortSignal,
    doNotTranslate: readonly string[] = [],
  ): Promise<{ model: ModelUse; targets: SentenceTarget[] }> {
    const translator = await this.pool.get(lang).catch((error: Error) => {
      if (!this.unavailable.has(lang)) this.onUnavailable?.(lang, error);
      this.unavailable.add(lang);
      throw error;
    });
    // Memory and in-flight sharing go by what decides the output: the sentence and, when it has glossary
    // terms or do-not-translate spans, what it is constrained to (a cached unconstrained translation is
    // never served for a constrained sentence).
    const call = doNotTranslate.length > 0 ? { doNotTranslate } : {};
    const sources = sentences.map((sentence) => translator.memorySource(sentence, call));
    const sentenceOf = new Map(sources.map((source, i) => [source, sentences[i]!]));
    const unique = [...new Set(sources)];
    const known = new Map<string, SentenceTarget>();
    let key: ModelKey | undefined;
    if (this.memory) {
      key = await this.modelKey(lang, translator);
      for (const [source, cached] of await this.memory.lookup(key, unique))
        known.set(source, { target: cached.target, flags: cached.flags });
    }
    // Sentences another article's request is translating right now (a duplicate article in the same
    // run): wait for that translation instead of making it twice.
    const inFlight = this.inFlightFor(lang);
    const shared = unique.flatMap((source) => {
      const pending = known.has(source) ? undefined : inFlight.get(source);
      return pending !== undefined ? [{ source, pending }] : [];
    });
    const missing = unique.filter((source) => !known.has(source) && !inFlight.has(source));
    let translated: ReadonlySet<string> = new Set();
    if (missing.length > 0) {
      const batch =
        this.memory && key
          ? this.memory.translateOnce(key, missing, (todo) => translateWith(translator, todo, sentenceOf, signal, call))
          : translateWith(translator, missing, sentenceOf, signal, call).then((entries) => ({ entries, translated: new Set(missing) }));
      missing.forEach((source, i) => {
        const one = batch.then(({ entries }) => ({ target: entries[i]!.target, flags: entries[i]!.flags }));
        // Whoever shares it awaits it; a failure reaches them there, and this request below.
        one.catch(() => undefined);
        this.owners.set(one, signal);
        inFlight.set(source, one);
      });
      try {
        const fresh = await batch;
        for (const entry of fresh.entries) known.set(entry.source, { target: entry.target, flags: entry.flags });
        translated = fresh.translated;
      } finally {
        for (const source of missing) inFlight.delete(source);
      }
    }
    for (const { source, pending } of shared)
      known.set(source, await this.awaitShared(lang, sentenceOf.get(source)!, pending, signal, doNotTranslate));
    // What another process translated first (a shared memory) counts as a memory hit too.
    this.usage.cacheHits += sources.filter((source) => !translated.has(source)).length;
    // Terms from the sentence and its English, so a memory hit reports them as a fresh translation does.
    const targets = sources.map((source, i) => {
      const { target, flags } = known.get(source)!;
      const terms = translator.terms(sentences[i]!, target, call);
      return terms.length > 0 ? { target, flags, terms } : { target, flags };
    });
    return { model: translator.model, targets };
  }

  /**
   * A sentence another call is translating. When that call stops first (a server request's deadline,
   * its client gone), its sentences leave the queue: this call, still waiting, translates it itself.
   */
  private async awaitShared(
    lang: LanguageCode,
    sentence: string,
    pending: Promise<SentenceTarget>,
    signal: AbortSignal | undefined,
    doNotTranslate: readonly string[],
  ): Promise<SentenceTarget> {
    try {
      return await pending;
    } catch (error) {
      // Stopped itself, it says so with its own reason, as the batcher does for its queued sentences.
      if (signal?.aborted) throw signal.reason ?? error;
      if (!this.owners.get(pending)?.aborted) throw error;
      return (await this.translate(lang, [sentence], signal, doNotTranslate)).targets[0]!;
    }
  }

  private inFlightFor(lang: LanguageCode): Map<string, Promise<SentenceTarget>> {
    let pending = this.inFlight.get(lang);
    if (!pending) {
      pending = new Map();
      this.inFlight.set(lang, pending);
    }
    return pending;
  }

  private modelKey(lang: LanguageCode, translator: Translator): Promise<ModelKey> {
    let key = this.keys.get(lang);
    if (!key) {
      const { id, revision, dtype } = translator.model;
      key = modelFilesIn(translator.modelDir, dtype as ModelDtype)
        .then((files) => this.memory!.fingerprint(translator.modelDir, files))
        // The same weights decoded otherwise (beams, q8 activations) translate otherwise.
        .then((weights) => ({ id, revision, dtype, fingerprint: sha256(`${weights}\n${translator.decoding}`) }));
      this.keys.set(lang, key);
    }
    return key;
  }
}

async function translateWith(
  translator: Translator,
  sources: string[],
  sentenceOf: ReadonlyMap<string, string>,
  signal: AbortSignal | undefined,
  call: TranslateCallOptions,
): Promise<TranslationEntry[]> {
  const fresh = await translator.translate(
    sources.map((source) => sentenceOf.get(source) ?? source),
    signal,
    call,
  );
  return sources.map((source, i) => ({ source, target: fresh[i]!.target, flags: fresh[i]!.flags }));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
