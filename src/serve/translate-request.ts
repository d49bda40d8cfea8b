/** POST /translate as LibreTranslate 1.9 answers it: parameters checked in its order, with its messages. */
import type { LanguageCode } from '../article.js';
import type { ServeConfig } from '../config/serve.js';
import { TARGET_LANGUAGE } from '../languages.js';
import type { DetectedLanguage, ServeEngine } from './engine.js';
import { badParameter, HttpError } from './errors.js';
import { planHtml } from './html-format.js';
import { requestGlossary } from './request-glossary.js';
import { planText, type SentencePlan } from './text-format.js';
import type { Glossary } from '../terminology/glossary.js';

/** Most `alternatives` a request may ask for (LibreTranslate's `--alternatives-limit` default). */
const ALTERNATIVES_LIMIT = 3;

export interface TranslateParameters {
  texts: string[];
  /** `q` was an array: the answer is one too. */
  batch: boolean;
  source: LanguageCode | 'auto';
  format: 'text' | 'html';
  alternatives: number;
  glossary?: Glossary;
}

export interface TranslateAnswer {
  translatedText: string | string[];
  detectedLanguage?: DetectedLanguage | DetectedLanguage[];
  alternatives?: string[] | string[][];
}

/** The body's parameters, or the 400 LibreTranslate gives for the first one that is missing or wrong. */
export function translateParameters(
  body: Record<string, unknown>,
  limits: Pick<ServeConfig, 'charLimit' | 'batchLimit'> & Pick<ServeEngine, 'numBeams'>,
): TranslateParameters {
  const { q, source, target } = body;
  if (q === undefined || q === null || q === '' || (Array.isArray(q) && q.length === 0)) throw badParameter('q');
  if (typeof q !== 'string' && !(Array.isArray(q) && q.every((item) => typeof item === 'string'))) {
    throw badParameter('q', 'parameter must be a string or an array of strings');
  }
  if (source === undefined || source === null || source === '') throw badParameter('source');
  if (target === undefined || target === null || target === '') throw badParameter('target');
  if (typeof source !== 'string') throw badParameter('source', 'parameter must be a string');
  if (typeof target !== 'string') throw badParameter('target', 'parameter must be a string');
  const alternatives = Number(body.alternatives ?? 0);
  if (!Number.isInteger(alternatives)) throw badParameter('alternatives', 'parameter is not a number');
  // Beam search keeps numBeams hypotheses, the best among them: that may limit alternatives below LibreTranslate's limit.
  const limit = Math.min(ALTERNATIVES_LIMIT, limits.numBeams - 1);
  if (alternatives > limit) {
    const why = limit < ALTERNATIVES_LIMIT ? ` (beam search keeps translation.numBeams ${limits.numBeams} hypotheses)` : '';
    throw badParameter('alternatives', `parameter must be <= ${limit}${why}`);
  }
  const texts = typeof q === 'string' ? [q] : q;
  if (Array.isArray(q) && q.length > limits.batchLimit) {
    throw new HttpError(400, `Invalid request: request (${q.length}) exceeds text limit (${limits.batchLimit})`);
  }
  for (const text of texts) {
    if (text.length > limits.charLimit) {
      throw new HttpError(400, `Invalid request: request (${text.length}) exceeds text limit (${limits.charLimit})`);
    }
  }
  if (target !== TARGET_LANGUAGE) throw new HttpError(400, `${target} is not supported`);
  const format = body.format ?? 'text';
  if (format !== 'text' && format !== 'html') throw new HttpError(400, `${String(format)} format is not supported`);
  const glossary = requestGlossary(body.glossary);
  return { texts, batch: Array.isArray(q), source, format, alternatives: Math.max(0, alternatives), glossary };
}

/**
 * Detects each item's language on its own when `source` is `auto` (LibreTranslate repeats one
 * detection for the whole array; Mastodon reads `detectedLanguage[i]`), then translates all items
 * of a language in one call, so their sentences share batches.
 */
export async function translateTexts(engine: ServeEngine, parameters: TranslateParameters, signal: AbortSignal): Promise<TranslateAnswer> {
  const { texts, batch, source, format } = parameters;
  if (source !== 'auto' && source !== TARGET_LANGUAGE && !engine.supports(source)) throw new HttpError(400, `${source} is not supported`);
  const plans = texts.map((text) => (format === 'html' ? planHtml(text) : null));
  const detected = texts.map((text, i) =>
    source === 'auto' ? engine.detect(plans[i]?.texts.join(' ') ?? text) : { confidence: 100, language: source },
  );
  const translated = [...texts];
  const alternatives: string[][] = texts.map(() => []);
  const byLanguage = new Map<LanguageCode, number[]>();
  detected.forEach(({ language }, i) => {
    // English and languages without a model pass through unchanged, as the article pipeline does.
    if (language !== TARGET_LANGUAGE && engine.supports(language)) byLanguage.set(language, [...(byLanguage.get(language) ?? []), i]);
  });
  await Promise.all(
    [...byLanguage].map(async ([lang, items]) => {
      const sentencePlans = items.map((i) => textPlans(texts[i]!, plans[i] ?? null, lang));
      const sentences = sentencePlans.flatMap((plan) => plan.pieces.flatMap((piece) => piece.sentences));
      const english = await engine.translate(lang, sentences, signal, {
        alternatives: parameters.alternatives,
        glossary: parameters.glossary,
      });
      let next = 0;
      items.forEach((item, k) => {
        const { pieces, assemble } = sentencePlans[k]!;
        const first = next;
        next += pieces.reduce((sum, piece) => sum + piece.sentences.length, 0);
        // The text again from the sentences' i-th alternatives (a sentence with fewer gives its best).
        const textOf = (pick: (sentence: number) => string) => {
          let at = first;
          return assemble(pieces.map((piece) => piece.assemble(piece.sentences.map(() => pick(at++)))));
        };
        translated[item] = textOf((sentence) => english.targets[sentence]!);
        for (let i = 0; i < parameters.alternatives; i++) {
          const text = textOf((sentence) => english.alternatives[sentence]?.[i] ?? english.targets[sentence]!);
          if (text !== translated[item] && !alternatives[item]!.includes(text)) alternatives[item]!.push(text);
        }
      });
    }),
  );
  const answer: TranslateAnswer = { translatedText: batch ? translated : translated[0]! };
  if (source === 'auto') answer.detectedLanguage = batch ? detected : detected[0]!;
  // Distinct texts only, so an item may have fewer than asked for (none when it was not translated).
  if (parameters.alternatives > 0) answer.alternatives = batch ? alternatives : alternatives[0]!;
  return answer;
}

/** A text's sentence plans (one for plain text, one per text run for HTML) and how to rebuild the text from them. */
function textPlans(
  text: string,
  html: ReturnType<typeof planHtml> | null,
  lang: LanguageCode,
): { pieces: SentencePlan[]; assemble(parts: string[]): string } {
  if (!html) return { pieces: [planText(text, lang)], assemble: (parts) => parts[0]! };
  return { pieces: html.texts.map((run) => planText(run, lang)), assemble: (parts) => html.assemble(parts) };
}
