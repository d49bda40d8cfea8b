/**
 * `newsbridge serve` under load: requests/s, sentences/s and p50/p95/p99 latency at 1, 8 and 32
 * concurrent clients (autocannon), each request one news sentence to POST /translate; beside it, in
 * the same run, the same sentences through the library's Translator in one call.
 *
 *   npm run bench:serve -- [--seconds N] [--clients 1,8,32] [--sentences N] [--library-sentences N]
 *                           [--compare-unshared] [--soak SECONDS] [--smoke] [--batch-tokens N]
 *
 * `--compare-unshared`: then a second server with `--no-shared-batches` (each request batched on its
 * own) under the same load at the largest client count; prints the ratio of sentences/s.
 * `--soak SECONDS`: instead of the levels, the largest client count for that long, the server's RSS
 * sampled every 10 s (start, peak, end).
 *
 * The server is the CLI (`newsbridge serve`) in a process of its own, on a generated vi→en model of
 * opus-mt-base's size (bench/.models, shared with bench:translate; `--smoke`: the tiny model, 2 s a
 * level), without the translation memory, so every sentence goes to the model. Sentences come from
 * NTREX-128 (../shared/data/mt/ntrex128). Sentences/s counts what the model translated, from the
 * server's /metrics. Generated models have random weights: the English is nonsense of random length,
 * the same for the server and the library, so the two are timed on the same work.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Command } from 'commander';
import pino from 'pino';
import { configSchema } from '../src/config/config.js';
import { ServeEngine } from '../src/serve/engine.js';
import { splitSentences } from '../src/stages/segment.js';
import { isUpToDate, makeModel } from '../tools/make-model.js';
import { repoRoot } from '../tools/repo-root.js';
import { type ServeProcess, startServe } from '../tools/serve-process.js';
import { sharedPath } from './shared-data.js';

interface Options {
  seconds: number;
  clients: number[];
  sentences: number;
  librarySentences: number;
  compareUnshared: boolean;
  soak?: number;
  smoke: boolean;
  /** `translation.batchTokens` of both servers (default: the config's); one-sentence batches of the unshared server are the same either way. */
  batchTokens?: number;
}

/** No limits in the way of the load: the bench measures the engine, not the rate limiter. */
const CONFIG = {
  translation: { workers: 2 },
  cache: { enabled: false },
  serve: { requestsPerMinute: 1_000_000_000, charsPerMinute: 1_000_000_000 },
};

async function ensureModel(smoke: boolean): Promise<string> {
  const modelsDir = path.join(repoRoot, 'bench', '.models', ...(smoke ? ['tiny'] : []));
  const options = {
    preset: smoke ? ('tiny' as const) : ('opus-mt-base' as const),
    out: path.join(modelsDir, 'Xenova', 'opus-mt-vi-en'),
    seed: 0,
    sourceLang: 'vi',
  };
  if (!(await isUpToDate(options))) {
    console.log(`generating the ${options.preset} vi→en model (once; it is kept)…`);
    await makeModel(options);
  }
  return modelsDir;
}

function newsSentences(count: number): string[] {
  const lines = readFileSync(sharedPath('data/mt/ntrex128/newstest2019-ref.vie.txt'), 'utf8').split('\n');
  return lines
    .flatMap((line) => splitSentences(line.trim(), 'vi'))
    .filter((sentence) => sentence.length > 0)
    .slice(0, count);
}

function rssMiB(pid: number): number {
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kib / 1024);
}

async function modelSentences(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^newsbridge_sentences_translated_total (\d+)/m.exec(text)?.[1] ?? 0);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function load(url: string, sentences: string[], connections: number, seconds: number) {
  let next = 0;
  const latencies: number[] = [];
  const refused = new Map<number, number>();
  const before = await modelSentences(url);
  const options: autocannon.Options = {
    url,
    connections,
    duration: seconds,
    // Clients wait past the server's deadline (30 s), so a slow answer is measured, and a late one is the server's 503.
    timeout: 40,
    requests: [
      {
        method: 'POST',
        path: '/translate',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ q: sentences[next++ % sentences.length], source: 'vi', target: 'en' }),
        }),
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status === 200) latencies.push(ms);
      else refused.set(status, (refused.get(status) ?? 0) + 1);
    });
  });
  const translated = (await modelSentences(url)) - before;
  latencies.sort((a, b) => a - b);
  const elapsed = result.duration;
  return {
    connections,
    requestsPerSecond: latencies.length / elapsed,
    sentencesPerSecond: translated / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    refused: [...refused].map(([status, n]) => `${n}×${status}`).join(', ') || 'none',
    errors: result.errors + result.timeouts,
  };
}

/** The same sentences through the library's Translator (same config, same model), in one call. */
async function library(modelsDir: string, sentences: string[]): Promise<number> {
  const config = configSchema.parse({ ...CONFIG, translation: { ...CONFIG.translation, modelsDir, download: false } });
  const engine = await ServeEngine.load(config, pino({ level: 'silent' }), (message) => console.error(message));
  const translator = await engine.services.pool.get('vi');
  await translator.translate(sentences.slice(0, 8));
  const start = performance.now();
  await translator.translate(sentences);
  const seconds = (performance.now() - start) / 1000;
  await engine.close();
  return sentences.length / seconds;
}

type Level = Awaited<ReturnType<typeof load>>;

function report(label: string, r: Level): void {
  console.log(
    `${label}, ${String(r.connections).padStart(2)} clients: ${r.requestsPerSecond.toFixed(1)} req/s, ${r.sentencesPerSecond.toFixed(1)} sentences/s, ` +
      `p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms (refused: ${r.refused}; errors ${r.errors})`,
  );
}

/** A server under `run`, stopped (SIGTERM) afterwards whatever happens. */
async function withServer<T>(modelsDir: string, config: string, flags: string[], run: (server: ServeProcess) => Promise<T>): Promise<T> {
  const server = await startServe({ config, modelsDir, flags, onLine: (line) => console.error(line) });
  try {
    return await run(server);
  } finally {
    server.child.kill('SIGTERM');
    await server.done;
  }
}

/** The levels on the shared-batch server, then (`--compare-unshared`) the largest on a server without shared batches. */
async function levels(modelsDir: string, config: string, sentences: string[], options: Options, seconds: number): Promise<void> {
  const largest = Math.max(...options.clients);
  const shared = await withServer(modelsDir, config, [], async (server) => {
    const rssStart = rssMiB(server.child.pid!);
    await load(server.url, sentences, 1, 1); // warm-up, untimed
    const results = [];
    for (const connections of options.clients) {
      results.push(await load(server.url, sentences, connections, seconds));
      report('server', results.at(-1)!);
    }
    console.log(`server RSS: ${rssStart} MiB at start, ${rssMiB(server.child.pid!)} MiB at end`);
    return results.find((r) => r.connections === largest)!;
  });
  if (!options.compareUnshared) return;
  const unshared = await withServer(modelsDir, config, ['--no-shared-batches'], async (server) => {
    await load(server.url, sentences, 1, 1);
    return load(server.url, sentences, largest, seconds);
  });
  report('server --no-shared-batches', unshared);
  console.log(
    `shared batches / each request on its own, ${largest} clients: ${(shared.sentencesPerSecond / unshared.sentencesPerSecond).toFixed(2)}× the sentences/s`,
  );
}

/** The largest client count for `seconds`, the server's RSS sampled every 10 s. */
async function soak(modelsDir: string, config: string, sentences: string[], options: Options, seconds: number): Promise<void> {
  const connections = Math.max(...options.clients);
  await withServer(modelsDir, config, [], async (server) => {
    const pid = server.child.pid!;
    const samples = [rssMiB(pid)];
    const sampler = setInterval(() => samples.push(rssMiB(pid)), 10_000);
    try {
      report(`soak ${seconds} s`, await load(server.url, sentences, connections, seconds));
    } finally {
      clearInterval(sampler);
    }
    samples.push(rssMiB(pid));
    console.log(`server RSS over ${seconds} s: ${samples[0]} MiB at start, ${Math.max(...samples)} MiB peak, ${samples.at(-1)} MiB at end`);
    console.log(`samples (MiB, every 10 s): ${samples.join(' ')}`);
  });
}

async function main(options: Options): Promise<void> {
  const seconds = options.smoke ? 2 : options.seconds;
  const sentences = newsSentences(options.smoke ? 120 : options.sentences);
  const modelsDir = await ensureModel(options.smoke);
  const dir = mkdtempSync(path.join(tmpdir(), 'nb-bench-serve-'));
  const config = path.join(dir, 'pipeline.yaml');
  const translation = { ...CONFIG.translation, ...(options.batchTokens ? { batchTokens: options.batchTokens } : {}) };
  writeFileSync(config, JSON.stringify({ ...CONFIG, translation }));
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `model: ${options.smoke ? 'tiny' : 'opus-mt-base'}-sized generated vi→en, ${sentences.length} NTREX sentences, ${seconds} s a level`,
  );
  try {
    if (options.soak !== undefined) await soak(modelsDir, config, sentences, options, options.soak);
    else await levels(modelsDir, config, sentences, options, seconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (options.librarySentences === 0 || options.soak !== undefined) return;
  const first = sentences.slice(0, options.librarySentences);
  console.log(
    `library Translator, one call of the first ${first.length} sentences: ${(await library(modelsDir, first)).toFixed(1)} sentences/s`,
  );
}

const program = new Command()
  .option('--seconds <n>', 'seconds of load at each client count', (v) => Number(v), 25)
  .option('--clients <list>', 'client counts, comma-separated', (v) => v.split(',').map(Number), [1, 8, 32])
  .option('--sentences <n>', 'NTREX sentences the clients cycle through', (v) => Number(v), 300)
  .option('--library-sentences <n>', 'of those, how many the library Translator translates (0: none)', (v) => Number(v), 64)
  .option('--compare-unshared', 'then the largest client count on a server with --no-shared-batches, and the ratio', false)
  .option('--soak <seconds>', 'instead of the levels: the largest client count this long, RSS sampled every 10 s', (v) => Number(v))
  .option('--smoke', 'quick check for CI: the tiny model, 2 s a level', false)
  .option('--batch-tokens <n>', "the servers' translation.batchTokens (default: the config's, 512)", (v) => Number(v))
  .parse();
await main(program.opts<Options>());
