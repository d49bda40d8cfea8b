import type { Command } from 'commander';
import pino from 'pino';
import { applyOverrides, DEFAULT_CONFIG_FILE, loadConfig, type PipelineConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { ServeEngine } from '../serve/engine.js';
import { ApiKeys } from '../serve/keys.js';
import { buildServer } from '../serve/server.js';
import { printable, writeLine } from './printable.js';

interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  modelsDir?: string;
  offline?: boolean;
  cache: boolean;
  sharedBatches: boolean;
  verbose?: boolean;
}

/** `newsbridge serve`: the LibreTranslate-compatible HTTP API and the reading page (docs/serving.md). */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve the translation engine over HTTP: a LibreTranslate-compatible API, POST /v1/articles and a reading page.')
    .option('--config <file>', `pipeline config (default: ${DEFAULT_CONFIG_FILE} when present, else the defaults)`)
    .option('--host <address>', 'address to listen on (default: serve.host, 127.0.0.1)')
    .option('--port <n>', 'TCP port (default: serve.port, 5000)')
    .option('--models-dir <dir>', 'where translation models live (default: translation.modelsDir)')
    .option('--offline', 'never download models; a missing model is left out of /languages')
    .option('--no-cache', 'do not use the translation memory')
    .option('--no-shared-batches', "batch each request's sentences on their own, never with other requests' (the baseline of bench:serve)")
    .option('--verbose', 'structured logs (pino, JSON lines) on stderr, one per request')
    .addHelpText('after', '\nSIGTERM or SIGINT: stop accepting, finish the requests in flight (at most serve.drainSeconds), exit 0.')
    .action(async (flags: ServeFlags) => {
      process.exitCode = await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<number> {
  const settings = await serveSettings(flags);
  if (!settings) return 1;
  const { config, keys } = settings;
  // API keys travel in bodies and the Authorization header; neither is ever written to the log.
  const log = pino(
    {
      name: 'newsbridge',
      level: flags.verbose ? 'info' : 'warn',
      redact: ['req.headers.authorization', 'req.body.api_key'],
      hooks: { streamWrite: (line) => printable(line) },
    },
    pino.destination(2),
  );
  const engine = await ServeEngine.load(config, log, (message) => writeLine(process.stderr, `newsbridge serve: ${message}`), {
    sharedBatches: flags.sharedBatches,
  });
  const app = await buildServer({ engine, keys, log });
  try {
    await app.listen({ host: config.serve.host, port: config.serve.port });
  } catch (error) {
    writeLine(process.stderr, `newsbridge serve: cannot listen on ${config.serve.host}:${config.serve.port}: ${(error as Error).message}`);
    await engine.close();
    return 1;
  }
  const address = app.server.address();
  const where =
    typeof address === 'object' && address
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : String(address);
  writeLine(process.stderr, `newsbridge serve: listening on ${where} (${engine.languages.join(', ') || 'no models loaded'})`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  writeLine(process.stderr, `newsbridge serve: ${signal}: finishing the requests in flight (at most ${config.serve.drainSeconds} s)`);
  const drained = await Promise.race([
    app.close().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), config.serve.drainSeconds * 1000).unref()),
  ]);
  if (!drained) writeLine(process.stderr, `newsbridge serve: requests still in flight after ${config.serve.drainSeconds} s were cut off`);
  await engine.close();
  // Worker threads and idle sockets would keep the process alive past the drain.
  process.exit(0);
}

async function serveSettings(flags: ServeFlags): Promise<{ config: PipelineConfig; keys: ApiKeys } | undefined> {
  try {
    const loaded = await loadConfig(flags.config);
    let config = applyOverrides(loaded.config, { modelsDir: flags.modelsDir, offline: flags.offline, cache: flags.cache });
    if (flags.host !== undefined || flags.port !== undefined) {
      const serve = { ...config.serve, ...(flags.host !== undefined ? { host: flags.host } : {}) };
      if (flags.port !== undefined) serve.port = portNumber(flags.port);
      config = { ...config, serve };
    }
    const keys = ApiKeys.load(config.serve.apiKeysFile, process.env.NEWSBRIDGE_API_KEYS);
    if (config.serve.requireKey && !keys.enabled) {
      throw new ConfigError([
        {
          file: flags.config ?? DEFAULT_CONFIG_FILE,
          line: 0,
          col: 0,
          path: 'serve.requireKey',
          problem: 'is true but no API key is set; put keys in serve.apiKeysFile or NEWSBRIDGE_API_KEYS',
        },
      ]);
    }
    return { config, keys };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeLine(process.stderr, error.message);
    return undefined;
  }
}

function portNumber(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError([{ file: '--port', line: 0, col: 0, path: '', problem: `${JSON.stringify(text)} is not a TCP port (0–65535)` }]);
  }
  return port;
}
