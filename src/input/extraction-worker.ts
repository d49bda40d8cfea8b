/**
 * An extraction worker thread: reads the web pages the pool sends with the HTML reader, one at a
 * time, and answers with the article or the reader's `InputError` (see extraction-pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { InputError } from '../errors.js';
import type { ExtractionReply, ExtractionRequest } from './extraction-pool.js';
import { htmlReader } from './html-reader.js';

const port = parentPort!;

port.on('message', ({ bytes, file }: ExtractionRequest) => {
  let reply: ExtractionReply;
  try {
    reply = { article: htmlReader.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), file) };
  } catch (error) {
    reply =
      error instanceof InputError
        ? { inputError: { reason: error.reason, message: error.message } }
        : { error: (error as Error).stack ?? String(error) };
  }
  port.postMessage(reply);
});
