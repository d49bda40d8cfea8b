import { z } from 'zod';

/** `serve:` in pipeline.yaml: `newsbridge serve`, the LibreTranslate-compatible HTTP API (docs/serving.md). */
export const serveSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Address the server listens on; 127.0.0.1 keeps it to this machine (`0.0.0.0` or `::` to open it); also `--host`.'),
    port: z.number().int().min(0).max(65_535).default(5000).describe("TCP port (LibreTranslate's default 5000); also `--port`."),
    apiKeysFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'File of API keys, one a line (`#` comments allowed); NEWSBRIDGE_API_KEYS (comma-separated) adds more. Keys are compared in constant time and never logged.',
      ),
    requireKey: z
      .boolean()
      .default(false)
      .describe('Refuse requests without a valid `api_key` (400 when missing, 403 when wrong); without it, a wrong key is still 403.'),
    requestsPerMinute: z
      .number()
      .int()
      .min(1)
      .default(120)
      .describe('Requests per minute per API key (per client address without one); over it, 429 with Retry-After.'),
    charsPerMinute: z
      .number()
      .int()
      .min(1)
      .default(200_000)
      .describe('Characters of `q` per minute per API key (per client address without one); over it, 429 with Retry-After.'),
    charLimit: z
      .number()
      .int()
      .min(1)
      .default(5000)
      .describe('Longest text of `q` (each item of an array) in characters; longer is a 400, as LibreTranslate answers.'),
    batchLimit: z.number().int().min(1).default(100).describe('Most items in an array `q`; more is a 400.'),
    bodyLimitBytes: z
      .number()
      .int()
      .min(1024)
      .default(2_000_000)
      .describe('Largest request body (JSON, form or article) in bytes; larger is a 413 and the connection is closed.'),
    maxPendingSentences: z
      .number()
      .int()
      .min(1)
      .default(2000)
      .describe(
        'Sentences of admitted requests not yet translated; a request that would go past it gets a 503 with Retry-After instead of waiting in memory.',
      ),
    requestTimeoutSeconds: z
      .number()
      .positive()
      .default(30)
      .describe(
        "A request's deadline: past it the client gets a 503 and its sentences still queued are dropped. Also the longest a client may take to send its body.",
      ),
    headersTimeoutSeconds: z
      .number()
      .positive()
      .default(10)
      .describe('A client that has not sent its request headers after this many seconds is disconnected (slowloris).'),
    drainSeconds: z
      .number()
      .positive()
      .default(30)
      .describe('On SIGTERM the server stops accepting and finishes the requests in flight for at most this long, then exits.'),
  })
  .prefault({})
  .describe('`newsbridge serve`: the LibreTranslate-compatible HTTP API and the reading page.');

export type ServeConfig = z.infer<typeof serveSchema>;
