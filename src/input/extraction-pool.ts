/**
 * Web pages are read (decoded, parsed, their article extracted) in worker threads, never on the main
 * thread: Readability on a hostile page can run for minutes, and a thread inside it handles no
 * signal, no timer and no other article. Each read has a deadline; past it, or when the caller's
 * signal aborts (SIGTERM), the worker is terminated at once and only that page fails.
 *
 * A worker is started for a read when none is idle and kept for the next one; an idle worker never
 * keeps the process alive, and exits after a while so the memory a large page left goes with it.
 * Written on node:worker_threads for the reason inference-pool.ts gives (pools that import task
 * modules by file name cannot load the TypeScript sources under tsx or vitest on Node 20), and it
 * needs no queue: callers bound how many pages are read at once (`run.concurrency`).
 */
import type { Worker } from 'node:worker_threads';
import { startWorkerScript, workerScriptBeside } from '../worker-script.js';
import { InputError, type InputErrorReason } from '../errors.js';
import type { ReadArticle } from './read.js';
import type { ReaderFile } from './reader.js';

export interface ExtractionRequest {
  bytes: Uint8Array;
  file: ReaderFile;
}

export type ExtractionReply = { article: ReadArticle } | { inputError: { reason: InputErrorReason; message: string } } | { error: string };

/** The read was stopped by the caller's signal (the run is stopping): the article is left as it was. */
export class ReadStoppedError extends Error {
  override name = 'ReadStoppedError';
}

export interface ExtractionOptions {
  /** `input.html.extractSeconds`. */
  deadlineSeconds: number;
  signal?: AbortSignal;
}

/** How long an idle worker is kept for the next page. */
const IDLE_MS = 10_000;

const WORKER_FILE = workerScriptBeside(import.meta.url, 'extraction-worker');

function startWorker(): Worker {
  return startWorkerScript(WORKER_FILE);
}

const idle: { worker: Worker; timer: NodeJS.Timeout }[] = [];

function takeWorker(): Worker {
  const kept = idle.pop();
  if (!kept) return startWorker();
  clearTimeout(kept.timer);
  kept.worker.ref();
  return kept.worker;
}

function putBack(worker: Worker): void {
  worker.unref();
  const timer = setTimeout(() => {
    idle.splice(
      idle.findIndex((kept) => kept.worker === worker),
      1,
    );
    void worker.terminate();
  }, IDLE_MS).unref();
  idle.push({ worker, timer });
}

/**
 * `htmlReader.read` in a worker thread. Rejects with the reader's `InputError`; with `too-complex`
 * when the deadline passes or the page exhausts the worker's memory; with `ReadStoppedError` when
 * `signal` aborts.
 */
export function readPageInWorker(bytes: Buffer, file: ReaderFile, options: ExtractionOptions): Promise<ReadArticle> {
  if (options.signal?.aborted) return Promise.reject(new ReadStoppedError(`${file.path}: the run was stopped before the page was read`));
  const worker = takeWorker();
  return new Promise<ReadArticle>((resolve, reject) => {
    const settle = (done: () => void, keepWorker: boolean) => {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (keepWorker) putBack(worker);
      else void worker.terminate();
      done();
    };
    const onMessage = (reply: ExtractionReply) =>
      settle(() => {
        if ('article' in reply) resolve(reply.article);
        else if ('inputError' in reply) reject(new InputError(file.path, reply.inputError.reason, reply.inputError.message));
        else reject(new Error(reply.error));
      }, true);
    const onError = (error: NodeJS.ErrnoException) =>
      settle(() => {
        if (error.code !== 'ERR_WORKER_OUT_OF_MEMORY') reject(error);
        else
          reject(
            new InputError(
              file.path,
              'too-complex',
              `${file.path}: reading the page ran out of memory (${error.message}), so its article is not extracted; lower input.maxBytes, or give the machine more memory`,
            ),
          );
      }, false);
    const onExit = (code: number) =>
      settle(() => reject(new Error(`${file.path}: the extraction worker exited with code ${code} while reading the page`)), false);
    const onAbort = () => settle(() => reject(new ReadStoppedError(`${file.path}: the run was stopped while the page was read`)), false);
    const deadline = setTimeout(
      () =>
        settle(
          () =>
            reject(
              new InputError(
                file.path,
                'too-complex',
                `${file.path}: extracting the article took longer than input.html.extractSeconds (${options.deadlineSeconds} s), so it was stopped; if it is a real article (or the machine was very busy), raise input.html.extractSeconds in pipeline.yaml`,
              ),
            ),
          false,
        ),
      // setTimeout takes at most 2^31 − 1 ms; a longer delay would fire at once.
      Math.min(options.deadlineSeconds * 1000, 2 ** 31 - 1),
    );
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ bytes, file } satisfies ExtractionRequest);
  });
}
