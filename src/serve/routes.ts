/** The routes: LibreTranslate's API, newsbridge's article endpoint, the reading page, health and metrics. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TARGET_LANGUAGE } from '../languages.js';
import { languageName } from '../output/html-page.js';
import { processArticle } from './articles.js';
import { CharBudget } from './char-budget.js';
import type { ServeEngine } from './engine.js';
import { badParameter, HttpError } from './errors.js';
import type { ApiKeys } from './keys.js';
import type { ServeMetrics } from './metrics.js';
import { PAGE_SCRIPT, renderFormPage } from './page.js';
import { translateParameters, translateTexts } from './translate-request.js';

interface RouteServices {
  engine: ServeEngine;
  keys: ApiKeys;
  metrics: ServeMetrics;
}

type Fields = Record<string, unknown>;

const keyed = { config: { keyed: true, rateLimit: {} } };

export function registerRoutes(app: FastifyInstance, { engine, keys, metrics }: RouteServices): void {
  const { serve } = engine.config;
  const chars = new CharBudget(serve.charsPerMinute);
  const withDeadline = deadlineRunner(serve.requestTimeoutSeconds);

  app.post('/translate', keyed, async (request, reply) => {
    const parameters = translateParameters(fields(request), {
      ...serve,
      numBeams: engine.numBeams,
    });
    chars.spend(
      request.client,
      parameters.texts.reduce((sum, text) => sum + text.length, 0),
    );
    return withDeadline(request, reply, (signal) => translateTexts(engine, parameters, signal));
  });

  app.post('/detect', keyed, async (request) => {
    const { q } = fields(request);
    if (q === undefined || q === '' || q === null) throw badParameter('q');
    const texts = typeof q === 'string' ? [q] : Array.isArray(q) && q.every((item) => typeof item === 'string') ? q : null;
    if (!texts) throw badParameter('q', 'parameter must be a string or an array of strings');
    const text = texts.join('\n');
    if (text.length > serve.charLimit)
      throw new HttpError(400, `Invalid request: request (${text.length}) exceeds text limit (${serve.charLimit})`);
    chars.spend(request.client, text.length);
    return [engine.detect(text)];
  });

  app.post('/v1/articles', keyed, async (request, reply) => {
    const body = request.body;
    const form = typeof body === 'object' && body !== null ? (body as Fields) : null;
    const text = form ? (form.text ?? form.html) : body;
    if (typeof text !== 'string' || text.trim() === '') throw badParameter('text');
    const html = form ? form.html !== undefined || form.kind === 'html' : request.headers['content-type']?.startsWith('text/html') === true;
    chars.spend(request.client, text.length);
    const answer = await withDeadline(request, reply, (signal) => processArticle(engine, { body: text, html }, signal));
    if ((request.query as Fields).format === 'html') return reply.type('text/html; charset=utf-8').send(answer.page());
    return answer.record;
  });

  app.get('/languages', async () => [
    ...engine.languages.map((code) => ({ code, name: languageName(code), targets: [TARGET_LANGUAGE] })),
    // English is listed as LibreTranslate lists every language: clients check both codes against this list.
    { code: TARGET_LANGUAGE, name: languageName(TARGET_LANGUAGE), targets: [] },
  ]);

  app.get('/frontend/settings', async () => ({
    charLimit: serve.charLimit,
    frontendTimeout: serve.requestTimeoutSeconds * 1000,
    apiKeys: keys.enabled,
    keyRequired: serve.requireKey,
    suggestions: false,
    filesTranslation: false,
    supportedFilesFormat: [],
    language: {
      source: { code: 'auto', name: 'Auto Detect' },
      target: { code: TARGET_LANGUAGE, name: languageName(TARGET_LANGUAGE) },
    },
  }));

  // The server listens only once the models are loaded, so an answer here means it is ready.
  app.get('/health', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.get('/', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(renderFormPage({ languages: engine.languages, keys: keys.enabled })),
  );
  app.get('/page.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(PAGE_SCRIPT));
  // The article page links back to the run's index.html; on the server that is the form.
  app.get('/index.html', async (_request, reply) => reply.redirect('/'));
}

/** The parsed JSON or form body; a missing body has no fields (so `q` is reported missing, as LibreTranslate does). */
function fields(request: FastifyRequest): Fields {
  return (request.body as Fields | undefined) ?? {};
}

/**
 * Runs a request's work under its deadline (`serve.requestTimeoutSeconds`): past it, or when the
 * client goes away, the signal aborts, the sentences still queued are dropped and the client gets a
 * 503 with Retry-After.
 */
function deadlineRunner(seconds: number) {
  return async <T>(request: FastifyRequest, reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new HttpError(503, `Request timed out after ${seconds} s (serve.requestTimeoutSeconds); try again later`, 1));
    }, seconds * 1000);
    const onClose = () => {
      if (!reply.sent) controller.abort(new HttpError(503, 'the client closed the connection'));
    };
    request.raw.socket.once('close', onClose);
    const stopped = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    stopped.catch(() => undefined);
    try {
      return await Promise.race([work(controller.signal), stopped]);
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      request.raw.socket.off('close', onClose);
    }
  };
}
