/**
 * Worker threads that run one model's sessions, so decoding never blocks the main thread (an
 * onnxruntime-node `session.run` holds the thread that calls it). Each worker opens its own sessions
 * and decodes one batch at a time; batches wait in a FIFO queue for the first free worker. A worker
 * that dies (a crash, or an out-of-memory end) fails only the batch it held; the pool starts a
 * replacement and the queue goes on.
 *
 * Written on node:worker_threads rather than piscina or tinypool: what is needed is a fixed set of
 * long-lived workers that each load a model once, which those pools make awkward (they import task
 * modules by file name in their own worker script, which cannot load our TypeScript sources when
 * run with tsx or vitest on Node 20).
 */
import type { Worker } from 'node:worker_threads';
import { startWorkerScript, workerScriptBeside } from '../worker-script.js';
import type { DecodeInput, SearchSettings } from './decoder.js';
import type { Seq2SeqModelInfo, SessionOptions } from './seq2seq-sessions.js';

export interface InferencePoolOptions {
  modelDir: string;
  session: SessionOptions;
  /** Worker threads, each with its own sessions. */
  workers: number;
}

/** What a worker is started with (its `workerData`). */
export interface WorkerSetup {
  modelDir: string;
  session: SessionOptions;
}

export interface DecodeRequest {
  id: number;
  inputs: DecodeInput[];
  settings: SearchSettings;
}

/** Asks a worker to release its sessions and exit on its own. */
export interface CloseRequest {
  close: true;
}

/** How long a closing worker gets to release its sessions before it is terminated. */
const CLOSE_GRACE_MS = 10_000;

export type WorkerMessage =
  | { ready: Seq2SeqModelInfo }
  | { loadError: string }
  | { id: number; hypotheses: number[][][]; threadId: number }
  | { id: number; error: string };

/** A batch's outputs and the worker thread that decoded it. */
export interface DecodeResult {
  /** Each input's best output. */
  outputs: number[][];
  /** Each input's `numHypotheses` best outputs, best first (./decoder.ts `decodeHypotheses`). */
  hypotheses: number[][][];
  threadId: number;
}

/** A worker thread stopped while it held this batch. */
export class InferenceWorkerError extends Error {
  override name = 'InferenceWorkerError';
}

interface Task {
  request: DecodeRequest;
  resolve: (result: DecodeResult) => void;
  reject: (error: Error) => void;
  signal?: AbortSignal;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | null;
}

const WORKER_FILE = workerScriptBeside(import.meta.url, 'inference-worker');

function startWorker(setup: WorkerSetup): Worker {
  return startWorkerScript(WORKER_FILE, { workerData: setup });
}

export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;
  private loadError: Error | null = null;

  private constructor(
    private readonly options: InferencePoolOptions,
    readonly info: Seq2SeqModelInfo,
  ) {}

  /** Starts the workers and waits until every one has loaded the model; a load error is thrown here. */
  static async open(options: InferencePoolOptions): Promise<InferencePool> {
    const starts = Array.from({ length: options.workers }, () => {
      const worker = startWorker({ modelDir: options.modelDir, session: options.session });
      return { worker, ready: waitReady(worker) };
    });
    // Every worker finishes loading, or fails to, before any is stopped: terminating a thread while
    // onnxruntime is still creating its sessions there can abort the whole process.
    const loaded = await Promise.allSettled(starts.map((start) => start.ready));
    const failure = loaded.find((result) => result.status === 'rejected');
    if (failure) {
      await Promise.all(starts.map((start) => closeWorker(start.worker)));
      throw failure.reason;
    }
    const pool = new InferencePool(options, (loaded[0] as PromiseFulfilledResult<Seq2SeqModelInfo>).value);
    for (const { worker } of starts) pool.attach({ worker, ready: true, task: null });
    return pool;
  }

  /** The worker threads (for diagnostics and tests). */
  get threads(): Worker[] {
    return this.slots.map((slot) => slot.worker);
  }

  /** Decodes a batch; with `signal`, a batch still queued when it aborts is rejected instead of run. */
  decode(inputs: DecodeInput[], settings: SearchSettings, signal?: AbortSignal): Promise<DecodeResult> {
    if (this.closed) return Promise.reject(new Error('the inference pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, inputs, settings }, resolve, reject, signal });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('the inference pool is closed'));
    await Promise.all(this.slots.map((slot) => closeWorker(slot.worker)));
  }

  private attach(slot: Slot): void {
    this.slots.push(slot);
    slot.worker.on('message', (message: WorkerMessage) => {
      if (!('id' in message) || slot.task?.request.id !== message.id) return;
      const task = slot.task;
      slot.task = null;
      if ('error' in message) task.reject(new Error(message.error));
      else {
        const { hypotheses, threadId } = message;
        task.resolve({ outputs: hypotheses.map((best) => best[0]!), hypotheses, threadId });
      }
      this.dispatch();
    });
    slot.worker.on('error', (error) => this.replace(slot, error));
    slot.worker.on('exit', (code) => this.replace(slot, new Error(`it exited with code ${code}`)));
  }

  /** A worker died: fail its batch, start a replacement, and go on with the queue. */
  private replace(slot: Slot, cause: Error): void {
    const index = this.slots.indexOf(slot);
    // A worker that dies while loading is handled where it loads (no endless restarts of a broken model).
    if (index < 0 || this.closed || !slot.ready) return;
    this.slots.splice(index, 1);
    slot.task?.reject(new InferenceWorkerError(`the inference worker stopped while decoding this batch: ${cause.message}`, { cause }));
    slot.task = null;
    const worker = startWorker({ modelDir: this.options.modelDir, session: this.options.session });
    const replacement: Slot = { worker, ready: false, task: null };
    this.attach(replacement);
    waitReady(worker).then(
      () => {
        replacement.ready = true;
        this.dispatch();
      },
      (error: Error) => {
        // The model cannot be loaded any more (deleted or damaged mid-run): with no worker left, nothing can run.
        this.slots.splice(this.slots.indexOf(replacement), 1);
        void closeWorker(worker);
        this.loadError = error;
        this.dispatch();
      },
    );
  }

  private dispatch(): void {
    if (this.slots.length === 0 && this.loadError) {
      for (const task of this.queue.splice(0)) task.reject(this.loadError);
      return;
    }
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.task) continue;
      // Batches whose caller stopped are dropped here, as a worker comes free: between batches.
      while (this.queue[0]?.signal?.aborted) this.queue.shift()!.reject(new Error('stopped before the batch reached a worker'));
      const task = this.queue.shift();
      if (!task) return;
      slot.task = task;
      slot.worker.postMessage(task.request);
    }
  }
}

function waitReady(worker: Worker): Promise<Seq2SeqModelInfo> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      if ('ready' in message) done(() => resolve(message.ready));
      else if ('loadError' in message) done(() => reject(new Error(message.loadError)));
    };
    const onError = (error: Error) => done(() => reject(error));
    const onExit = (code: number) => done(() => reject(new Error(`the inference worker exited with code ${code} while loading`)));
    const done = (settle: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      settle();
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/**
 * Lets a worker release its onnxruntime sessions and exit by itself: terminating a thread while
 * onnxruntime-node holds native state there can abort the whole process ("terminate called after
 * throwing an instance of 'Napi::Error'"). Terminated only if it has not exited after a grace period.
 */
async function closeWorker(worker: Worker): Promise<void> {
  // Exited already (a worker whose model failed to load ends by itself): no 'exit' event is to come.
  if (worker.threadId === -1) return;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage({ close: true } satisfies CloseRequest);
  const grace = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(grace);
  }
}
