import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { configSchema, defaultConfig, type PipelineConfig } from '../../src/config/config.js';
import type { ServeConfig } from '../../src/config/serve.js';
import { ServeEngine } from '../../src/serve/engine.js';
import { ApiKeys } from '../../src/serve/keys.js';
import { buildServer } from '../../src/serve/server.js';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  engine: ServeEngine;
  close(): Promise<void>;
}

export interface TestServerOptions {
  serve?: Partial<ServeConfig>;
  keys?: string[];
  /** Translation settings over the test defaults (greedy, one worker). */
  translation?: Partial<PipelineConfig['translation']>;
}

/**
 * A real `newsbridge serve` on 127.0.0.1 (a free port) over the generated tiny ar/vi models, with a
 * translation memory of its own in a temporary folder.
 */
export async function startServer(modelsDir: string, options: TestServerOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nb-serve-'));
  const config = configSchema.parse({
    ...defaultConfig,
    translation: { ...defaultConfig.translation, modelsDir, download: false, workers: 1, numBeams: 1, ...options.translation },
    cache: { enabled: true, path: path.join(dir, 'cache.sqlite') },
    serve: { ...defaultConfig.serve, port: 0, ...options.serve },
  });
  const log = pino({ level: 'silent' });
  const engine = await ServeEngine.load(config, log, (message) => {
    throw new Error(message);
  });
  const app = await buildServer({ engine, keys: ApiKeys.load(undefined, options.keys?.join(',')), log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (typeof address !== 'object' || !address) throw new Error('the server has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    engine,
    close: async () => {
      await app.close();
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
