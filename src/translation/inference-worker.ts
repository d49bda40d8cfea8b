/**
 * An inference worker thread: opens its own onnxruntime-node sessions on the model files, then
 * decodes the batches the pool sends, one at a time (see inference-pool.ts for the protocol).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { decodeHypotheses } from './decoder.js';
import type { CloseRequest, DecodeRequest, WorkerMessage, WorkerSetup } from './inference-pool.js';
import { openSeq2SeqSessions } from './seq2seq-sessions.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const send = (message: WorkerMessage) => port.postMessage(message);

try {
  const sessions = await openSeq2SeqSessions(setup.modelDir, setup.session);
  port.on('message', (request: DecodeRequest | CloseRequest) => {
    if ('close' in request) {
      // The pool is closing: release the native sessions, then let the thread end by itself.
      void sessions.release().finally(() => port.close());
      return;
    }
    // Anything else is a bug on the sending side: the worker stops, and the pool fails only the batch it held.
    if (typeof request?.id !== 'number' || !Array.isArray(request.inputs))
      throw new Error(`unexpected message: ${JSON.stringify(request)}`);
    decodeHypotheses(sessions, request.inputs, request.settings).then(
      (hypotheses) => send({ id: request.id, hypotheses, threadId }),
      (error: unknown) => send({ id: request.id, error: (error as Error).message ?? String(error) }),
    );
  });
  send({ ready: sessions.info });
} catch (error) {
  send({ loadError: (error as Error).message ?? String(error) });
}
