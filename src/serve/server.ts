/**
 * The HTTP server of `newsbridge serve` (fastify): limits, keys, rate limits, errors in
 * LibreTranslate's shape, metrics and the routes (./routes.ts).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import formBody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ServeEngine } from './engine.js';
import { HttpError } from './errors.js';
import type { ApiKeys } from './keys.js';
import { ServeMetrics } from './metrics.js';
import { registerRoutes } from './routes.js';

export interface ServerOptions {
  engine: ServeEngine;
  keys: ApiKeys;
  log: Logger;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes `api_key` and counts against the client's limits. */
    keyed?: boolean;
  }
  interface FastifyRequest {
    /** Who the limits are counted for: a digest of the API key, else the client's address. */
    client: string;
  }
}

/** Builds the server (not listening yet); `close()` stops accepting and waits for the requests in flight. */
export async function buildServer({ engine, keys, log }: ServerOptions): Promise<FastifyInstance> {
  const serve = engine.config.serve;
  const app = Fastify({
    // pino's Logger is fastify's logger; only the declared types differ (msgPrefix).
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: serve.bodyLimitBytes,
    // Slow clients: headers within headersTimeoutSeconds, the whole request within the deadline;
    // Node checks both every connectionsCheckingInterval.
    serverFactory: (handler) => {
      const server = createServer(
        {
          // Node refuses a headers timeout longer than the request timeout: the headers are part of the request.
          headersTimeout: Math.min(serve.headersTimeoutSeconds, serve.requestTimeoutSeconds) * 1000,
          requestTimeout: serve.requestTimeoutSeconds * 1000,
          connectionsCheckingInterval: Math.min(1000, serve.headersTimeoutSeconds * 500),
          keepAliveTimeout: 5000,
        },
        handler,
      );
      // A connection that sends nothing at all is closed too; later than the deadline, so a request
      // waiting for the model gets its 503 before its idle connection is cut.
      server.setTimeout((serve.requestTimeoutSeconds + serve.headersTimeoutSeconds) * 1000);
      return server;
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.decorateRequest('client', '');
  await app.register(formBody, { bodyLimit: serve.bodyLimitBytes });
  app.addContentTypeParser('text/html', { parseAs: 'string', bodyLimit: serve.bodyLimitBytes }, (_request, body, done) => done(null, body));
  app.addHook('preValidation', async (request) => checkKey(request, keys, serve.requireKey));
  await app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    max: serve.requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.client,
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, `Slowdown: ${context.max} per 1 minute (serve.requestsPerMinute); try again in ${context.after}`),
  });
  const metrics = new ServeMetrics(engine);
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.addHook('onSend', async (request, reply) => {
    // As LibreTranslate: browser extensions call the API from other origins (no cookies are used).
    if (request.routeOptions.config?.keyed || request.url === '/languages') {
      reply.header('access-control-allow-origin', '*');
      reply.header('access-control-allow-headers', 'Authorization, Content-Type');
    }
  });
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not Found' }));
  registerRoutes(app, { engine, keys, metrics });
  return app;
}

/**
 * LibreTranslate's key rules: a key that is sent must be valid (403, whether or not keys are
 * required); with `serve.requireKey` a missing key is a 400. Also decides whom the limits count.
 */
function checkKey(request: FastifyRequest, keys: ApiKeys, requireKey: boolean): void {
  if (!request.routeOptions.config?.keyed) return;
  const { body } = request;
  // An article sent as raw text or HTML is a string; any other body must be a JSON object (or a form).
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (fields === undefined && body !== undefined && typeof body !== 'string') throw new HttpError(400, 'Invalid JSON format');
  const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const sent = fields?.api_key ?? bearer;
  const key = typeof sent === 'string' && sent !== '' ? sent : undefined;
  if (key !== undefined && !keys.has(key)) throw new HttpError(403, 'Invalid API key');
  if (key === undefined && requireKey) throw new HttpError(400, 'Please contact the server operator to get an API key');
  request.client = key !== undefined ? `key:${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : `address:${request.ip}`;
}

/** Every error as `{"error": message}`; fastify's own (bad JSON, body too large, timeouts) keep their status. */
function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpError) {
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.code(error.status).send({ error: error.message });
  }
  const { statusCode, message } = error as { statusCode?: number; message?: string };
  const status = statusCode !== undefined && statusCode >= 400 && statusCode < 600 ? statusCode : 500;
  // The rest of an over-large body is not read: the connection closes after the answer.
  if (status === 413) reply.header('connection', 'close');
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  return reply
    .code(status)
    .send({ error: status >= 500 ? `Cannot translate text: ${message ?? 'internal error'}` : (message ?? 'Bad Request') });
}
