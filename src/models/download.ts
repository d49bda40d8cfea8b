/**
 * One attempt at downloading one model file: the bytes go to `<file>.part` and into a sha256 as
 * they arrive, an interrupted download resumes from the `.part` with an HTTP Range request, and
 * the file takes its real name only once complete and checked, so a file under its final name is
 * always whole.
 */
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ModelDownloadError } from '../errors.js';
import { fileSize, hashFileInto, syncDir } from './files.js';
import { linkedHeaders, type PublishedFile } from './hub.js';
import { retryAfterMs } from './retry.js';

export interface DownloadLimits {
  /** Epoch ms by which the file must be complete. */
  deadline: number;
  /** An attempt that receives no byte for this long (headers included) is dropped. */
  stallMs: number;
  signal?: AbortSignal;
}

/** Checks a downloaded file (at its `.part` path, with its sha256) before it takes its real name; says what is wrong, or null. */
export type DownloadCheck = (part: string, linked: PublishedFile, sha256: string) => Promise<string | null>;

export type DownloadProgress = (done: number, total: number | null, state: 'downloading' | 'done') => void;

export interface DownloadedFile {
  bytes: number;
  sha256: string;
}

/** Why a download was cut short by us rather than by the server. */
type Cutoff = 'stalled' | 'deadline' | 'stopped';

type DownloadWatch = ReturnType<typeof downloadWatch>;

/** One attempt's open `.part` file and what watches it. */
interface Attempt {
  url: string;
  part: string;
  handle: FileHandle;
  watch: DownloadWatch;
  progress: DownloadProgress;
}

/** Where an attempt stands: the bytes in the `.part` file, hashed as they were written. */
interface Transfer {
  done: number;
  total: number | null;
  hash: Hash;
  /** What the resolve response's headers say the file is. */
  linked: PublishedFile;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** One attempt at one file; resumes from `<target>.part`. */
export async function downloadFile(
  url: string,
  target: string,
  limits: DownloadLimits,
  check: DownloadCheck,
  progress: DownloadProgress,
): Promise<DownloadedFile> {
  const watch = downloadWatch(limits);
  try {
    return await downloadWatched(url, target, watch, check, progress);
  } catch (error) {
    const cutoff = watch.cutoff();
    if (cutoff) throw cutoffError(url, cutoff, await fileSize(`${target}.part`).then((size) => size ?? 0), limits);
    throw error;
  } finally {
    watch.dispose();
  }
}

async function downloadWatched(
  url: string,
  target: string,
  watch: DownloadWatch,
  check: DownloadCheck,
  progress: DownloadProgress,
): Promise<DownloadedFile> {
  const part = `${target}.part`;
  // Open before fetching so the body is read as soon as it arrives: a stream that errors drops
  // whatever it had buffered and not yet handed out.
  const handle = await open(part, 'a');
  const attempt: Attempt = { url, part, handle, watch, progress };
  let transfer: Transfer;
  try {
    const offset = (await handle.stat()).size;
    const response = await requestFile(url, offset, watch);
    transfer = await startTransfer(response, attempt, offset);
    progress(transfer.done, transfer.total, 'downloading');
    if (response.status !== 416 && response.body) await streamBody(response.body, attempt, transfer);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const { done, total } = transfer;
  if (total !== null && done !== total) {
    throw new ModelDownloadError(url, `download of ${url} stopped at ${done} of ${total} bytes; run the pull again to resume`);
  }
  const sha256 = transfer.hash.digest('hex');
  await installPart(url, part, target, await check(part, transfer.linked, sha256));
  progress(done, done, 'done');
  return { bytes: done, sha256 };
}

/** The resolve request, asking for the rest of the file when the `.part` already holds `offset` bytes. */
async function requestFile(url: string, offset: number, watch: DownloadWatch): Promise<Response> {
  let response: Response;
  // The watch's signal cuts a server that does not answer, stops sending, or is too slow overall,
  // and a pull the user stops: a network that drops packets cannot hang a pull (or a run).
  try {
    response = await fetch(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal: watch.signal });
  } catch (error) {
    throw new ModelDownloadError(url, `could not reach ${url}: ${(error as Error).cause ?? (error as Error).message}`);
  }
  watch.alive();
  return response;
}

/**
 * Reads the response's status and range against what the `.part` holds: a resume continues it
 * (hashing the bytes already there, once), a full answer starts it over, anything else throws.
 */
async function startTransfer(response: Response, { url, part, handle }: Attempt, offset: number): Promise<Transfer> {
  const linked = linkedHeaders(response.headers);
  if (response.status === 206) {
    const range = CONTENT_RANGE.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      await response.body?.cancel();
      await handle.truncate(0);
      throw new ModelDownloadError(
        url,
        `${url} answered a resume request with an unexpected range; the partial file was discarded, run the pull again`,
      );
    }
    const total = range[3] === '*' ? null : Number(range[3]);
    return { done: offset, total, hash: await hashFileInto(createHash('sha256'), part, offset), linked };
  }
  if (response.status === 416 && offset > 0) {
    // The .part already holds the whole file when the server says the range starts past its end.
    await response.body?.cancel();
    const range = /^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      await handle.truncate(0);
      throw new ModelDownloadError(url, `${url} rejected the resume request; the partial file was discarded, run the pull again`);
    }
    return { done: offset, total: offset, hash: await hashFileInto(createHash('sha256'), part, offset), linked };
  }
  if (response.status === 200) {
    // The server ignored the Range header (or there was nothing to resume): start from zero.
    if (offset > 0) await handle.truncate(0);
    const length = response.headers.get('content-length');
    return { done: 0, total: length === null ? null : Number(length), hash: createHash('sha256'), linked };
  }
  await response.body?.cancel();
  throw new ModelDownloadError(
    url,
    `${url} answered ${response.status} ${response.statusText}: ${statusHint(response.status)}`,
    response.status,
    undefined,
    retryAfterMs(response),
  );
}

/** Appends the body to the `.part` file and to the hash as it arrives. */
async function streamBody(body: ReadableStream<Uint8Array>, { url, handle, watch, progress }: Attempt, transfer: Transfer): Promise<void> {
  try {
    // Each read races the watch: an abort that lands between reads must not wait on a stream
    // that may never settle.
    const reader = body.getReader();
    try {
      for (;;) {
        const { done: ended, value: chunk } = await Promise.race([reader.read(), watch.aborted]);
        if (ended) break;
        watch.alive();
        await handle.write(chunk);
        transfer.hash.update(chunk);
        transfer.done += chunk.byteLength;
        progress(transfer.done, transfer.total, 'downloading');
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  } catch (error) {
    throw new ModelDownloadError(
      url,
      `download of ${url} was interrupted after ${transfer.done} bytes (${(error as Error).message}); run the pull again to resume`,
    );
  }
}

/** Gives a complete `.part` file its real name, durably; one that failed its check (`problem`) is discarded instead. */
async function installPart(url: string, part: string, target: string, problem: string | null): Promise<void> {
  if (problem) {
    await rm(part, { force: true });
    throw new ModelDownloadError(
      url,
      `${url} sent a file that ${problem}; it was discarded, not installed. The mirror is serving damaged or wrong files: try again, or use another --mirror`,
    );
  }
  await rename(part, target);
  await syncDir(path.dirname(target));
}

function statusHint(status: number): string {
  if (status === 404) return 'check the model id and revision in pipeline.yaml (translation.models) and the mirror URL';
  if (status === 401 || status === 403) return 'the server refused access; check the mirror URL';
  if (status === 429) return 'the server is limiting requests; run the pull again later';
  return 'the server failed; run the pull again later';
}

/**
 * One AbortSignal for a download attempt: it aborts when no byte has come for `stallMs` (call
 * `alive` on every chunk), when the file's deadline passes, or when the caller stops the pull.
 */
function downloadWatch(limits: DownloadLimits) {
  const controller = new AbortController();
  const cut = (why: Cutoff) => {
    if (!controller.signal.aborted) controller.abort(why);
  };
  let stall = setTimeout(() => cut('stalled'), limits.stallMs);
  const deadline = setTimeout(() => cut('deadline'), Math.max(0, limits.deadline - Date.now()));
  const stop = () => cut('stopped');
  if (limits.signal?.aborted) stop();
  limits.signal?.addEventListener('abort', stop, { once: true });
  const aborted = new Promise<never>((_resolve, reject) => {
    const fail = () => reject(new Error(`cut: ${String(controller.signal.reason)}`));
    if (controller.signal.aborted) fail();
    else controller.signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  return {
    signal: controller.signal,
    /** Rejects when the attempt is cut. */
    aborted,
    /** Why the attempt was cut, if it was. */
    cutoff: (): Cutoff | undefined => (controller.signal.aborted ? (controller.signal.reason as Cutoff) : undefined),
    alive: () => {
      clearTimeout(stall);
      stall = setTimeout(() => cut('stalled'), limits.stallMs);
    },
    dispose: () => {
      clearTimeout(stall);
      clearTimeout(deadline);
      limits.signal?.removeEventListener('abort', stop);
    },
  };
}

function cutoffError(url: string, cutoff: Cutoff, done: number, limits: DownloadLimits): ModelDownloadError {
  const message = {
    stalled: `download of ${url} stalled: no data for ${limits.stallMs / 1000} s after ${done} bytes; run the pull again to resume`,
    deadline: `download of ${url} did not finish in time (${done} bytes so far); the mirror is too slow — run the pull again to resume, or use another --mirror`,
    stopped: `download of ${url} was stopped after ${done} bytes; run the pull again to resume`,
  }[cutoff];
  return new ModelDownloadError(url, message, undefined, cutoff);
}
