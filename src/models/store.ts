import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fg from 'fast-glob';
import pRetry, { AbortError } from 'p-retry';
import protobuf from 'protobufjs/minimal.js';
import { z } from 'zod';
import type { LanguageCode } from '../article.js';
import { HUB_MODEL_ID, MODEL_DTYPES, type ModelDtype, type ModelSpec } from '../config/config.js';
import { ModelDownloadError, type ModelLabel, ModelUnavailableError } from '../errors.js';
import { writeFileAtomic } from '../output/atomic-write.js';

/**
 * The model store: configured models live in `<modelsDir>/<id>/` (the transformers.js local-model
 * convention), are pulled from the hub or a mirror with the hub's URL layout, and carry a manifest
 * with each file's size and sha256 so a broken download or a damaged file is caught before use.
 */

export const MANIFEST_FILE = 'newsbridge-manifest.json';

const COMMON_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];
const ONNX_PARTS = ['encoder_model', 'decoder_model_merged'];
/** transformers.js loads `onnx/<part><suffix>.onnx` for a dtype. */
const DTYPE_SUFFIX: Record<ModelDtype, string> = { fp32: '', q8: '_quantized' };

/** The files a MarianMT export needs to run with the given dtype, relative to the model folder. */
export function modelFiles(dtype: ModelDtype): string[] {
  return [...COMMON_FILES, ...ONNX_PARTS.map((part) => `onnx/${part}${DTYPE_SUFFIX[dtype]}.onnx`)];
}

/**
 * `<modelsDir>/<id>/`, absolute. The config only lets hub-style ids through; this refuses anything
 * that would still resolve outside the models folder (or onto it), whoever calls it.
 */
export function modelDirOf(modelsDir: string, id: string): string {
  const root = path.resolve(modelsDir);
  const dir = path.resolve(root, ...id.split('/'));
  const inside = path.relative(root, dir);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside) || !HUB_MODEL_ID.test(id)) {
    throw new Error(
      `model id "${id}" is not a hub id (owner/name: letters, digits, -, _ and .; no ..) and would not stay inside the models folder ${root}; fix translation.models in the config`,
    );
  }
  return dir;
}

/** The command that installs a configured model. */
export function pullCommand(lang: LanguageCode, modelsDir: string): string {
  return `newsbridge models pull --only ${lang} --models-dir ${path.resolve(modelsDir)}`;
}

export interface ManifestFile {
  bytes: number;
  sha256: string;
}

export interface ModelManifest {
  id: string;
  revision: string;
  /** Base URL the files came from (the hub or a mirror). */
  source: string;
  pulledAt: string;
  files: Record<string, ManifestFile>;
}

export async function readManifest(modelDir: string): Promise<ModelManifest | null> {
  try {
    return JSON.parse(await readFile(path.join(modelDir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function fileSize(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Cheap check before loading: every file the dtype needs is there, and where a manifest exists, has
 * the size it records (a full hash check is `verifyModel`).
 */
export async function assertModelReady(modelDir: string, dtype: ModelDtype, model: ModelLabel): Promise<void> {
  if ((await fileSize(modelDir)) === null) {
    throw new ModelUnavailableError(model, modelDir, null, 'does not exist (the model is not installed)');
  }
  const manifest = await readManifest(modelDir);
  for (const file of modelFiles(dtype)) {
    const bytes = await fileSize(path.join(modelDir, file));
    if (bytes === null) throw new ModelUnavailableError(model, modelDir, file, 'is missing');
    const expected = manifest?.files[file]?.bytes;
    if (expected !== undefined && expected !== bytes) {
      throw new ModelUnavailableError(
        model,
        modelDir,
        file,
        `is corrupt (${bytes} bytes, the manifest says ${expected})`,
      );
    }
  }
}

export interface FileProblem {
  file: string;
  problem: 'missing' | 'size' | 'sha256' | 'format';
  detail: string;
}

export interface VerifyReport {
  modelDir: string;
  manifest: ModelManifest | null;
  /** Files checked against the manifest (every file the manifest lists). */
  checked: string[];
  problems: FileProblem[];
}

/** Re-checks every file in the manifest by size and sha256. */
export async function verifyModel(modelDir: string): Promise<VerifyReport> {
  const manifest = await readManifest(modelDir);
  const report: VerifyReport = { modelDir, manifest, checked: [], problems: [] };
  if (!manifest) return report;
  for (const [file, expected] of Object.entries(manifest.files)) {
    report.checked.push(file);
    const full = path.join(modelDir, file);
    const bytes = await fileSize(full);
    if (bytes === null) {
      report.problems.push({ file, problem: 'missing', detail: 'is missing' });
    } else if (bytes !== expected.bytes) {
      report.problems.push({ file, problem: 'size', detail: `has ${bytes} bytes, the manifest says ${expected.bytes}` });
    } else {
      const sha256 = await sha256File(full);
      const format = sha256 === expected.sha256 ? await fileProblem(full, file) : null;
      if (sha256 !== expected.sha256) {
        report.problems.push({ file, problem: 'sha256', detail: `has sha256 ${sha256}, the manifest says ${expected.sha256}` });
      } else if (format) {
        // The manifest records what arrived; a pull before downloads were checked may have recorded an error page.
        report.problems.push({ file, problem: 'format', detail: `${format}; run \`newsbridge models pull\` to replace it` });
      }
    }
  }
  return report;
}

/** Turns a failed verification into the one clear error. */
export function verifyError(report: VerifyReport, model: ModelLabel): ModelUnavailableError | null {
  if (!report.manifest) {
    return new ModelUnavailableError(model, report.modelDir, MANIFEST_FILE, 'is missing, so the files cannot be checked');
  }
  const first = report.problems[0];
  if (!first) return null;
  const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more bad files)` : '';
  return new ModelUnavailableError(model, report.modelDir, first.file, `${first.detail}${more}`);
}

export interface InstalledModel {
  /** Path relative to the models dir, which is the model id for models in the hub layout. */
  id: string;
  dir: string;
  /** dtypes whose files are all present. */
  dtypes: ModelDtype[];
  manifest: ModelManifest | null;
}

/** Model folders under the models dir (`<id>/config.json`, ids of one or two path parts). */
export async function listModels(modelsDir: string): Promise<InstalledModel[]> {
  const root = path.resolve(modelsDir);
  const configs = await fg(['*/config.json', '*/*/config.json'], { cwd: root, onlyFiles: true });
  const models: InstalledModel[] = [];
  for (const config of configs.sort()) {
    const id = path.posix.dirname(config);
    const dir = path.join(root, id);
    const dtypes: ModelDtype[] = [];
    for (const dtype of MODEL_DTYPES) {
      const sizes = await Promise.all(modelFiles(dtype).map((file) => fileSize(path.join(dir, file))));
      if (sizes.every((size) => size !== null)) dtypes.push(dtype);
    }
    models.push({ id, dir, dtypes, manifest: await readManifest(dir) });
  }
  return models;
}

export interface PullProgress {
  file: string;
  bytesDone: number;
  /** null while the server has not said how big the file is. */
  bytesTotal: number | null;
  /** `verified`: the file was already there with the manifest's hash and was not downloaded again. */
  state: 'downloading' | 'done' | 'verified';
}

export interface PullOptions {
  id: string;
  revision: string;
  modelsDir: string;
  dtype: ModelDtype;
  /** Base URL with the hub's layout, e.g. `https://huggingface.co`. */
  mirror: string;
  onProgress?: (progress: PullProgress) => void;
  /** Attempts per request (each file, and the hub's file list); each retry of a file resumes from what is already on disk. */
  attempts?: number;
  /**
   * Wait before the first retry; each later one waits twice as long as the one before, times a
   * random 1–2 so that clients failed by the same outage do not come back together. Default 1 s.
   */
  retryDelayMs?: number;
  /** A download that receives no byte for this long (headers included) is dropped and retried. Default 60 s. */
  stallMs?: number;
  /** A file not complete this long after its first request fails, retries included. Default 30 min. */
  fileDeadlineMs?: number;
  /** Stops the pull (SIGINT/SIGTERM): the file being downloaded keeps its `.part` to resume from. */
  signal?: AbortSignal;
}

const DEFAULT_STALL_MS = 60_000;
const DEFAULT_FILE_DEADLINE_MS = 30 * 60_000;
const DEFAULT_ATTEMPTS = 3;
const DEFAULT_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 60_000;

export function fileUrl(mirror: string, id: string, revision: string, file: string): string {
  return `${mirror.replace(/\/+$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/**
 * Downloads the files a dtype needs into `<modelsDir>/<id>/`. Each file is written to `<file>.part`,
 * synced and renamed, so a file under its final name is always complete; an interrupted download
 * resumes from the `.part` file with an HTTP Range request. Files already present with the hash in
 * the manifest are kept. Writes the manifest after every file.
 */
export async function pullModel(options: PullOptions): Promise<ModelManifest> {
  const modelDir = modelDirOf(options.modelsDir, options.id);
  assertNoCredentials(options.mirror);
  await mkdir(modelDir, { recursive: true });
  const previous = await readManifest(modelDir);
  const sameSource = previous?.id === options.id && previous.revision === options.revision;
  const manifest: ModelManifest = {
    id: options.id,
    revision: options.revision,
    source: options.mirror,
    pulledAt: new Date().toISOString(),
    files: sameSource ? { ...previous.files } : {},
  };
  // What the hub says each file is; a mirror without the API still has the resolve headers.
  const published = await publishedFiles(options);
  for (const file of modelFiles(options.dtype)) {
    const target = path.join(modelDir, file);
    const known = manifest.files[file];
    const expected = published?.get(file);
    // A file is kept only if it is what the manifest recorded and what the hub publishes, and parses:
    // a bad file recorded by an earlier pull is replaced now.
    if (
      known &&
      (await fileSize(target)) === known.bytes &&
      (await sha256File(target)) === known.sha256 &&
      (await fileProblem(target, file, expected)) === null
    ) {
      options.onProgress?.({ file, bytesDone: known.bytes, bytesTotal: known.bytes, state: 'verified' });
      continue;
    }
    const url = fileUrl(options.mirror, options.id, options.revision, file);
    await mkdir(path.dirname(target), { recursive: true });
    const bytes = await downloadWithRetries(url, target, file, options, (part, linked) => fileProblem(part, file, { ...linked, ...expected }));
    manifest.files[file] = { bytes, sha256: await sha256File(target) };
    await writeJsonAtomic(path.join(modelDir, MANIFEST_FILE), manifest);
  }
  await writeJsonAtomic(path.join(modelDir, MANIFEST_FILE), manifest);
  return manifest;
}

/** Why a download was cut short by us rather than by the server. */
type Cutoff = 'stalled' | 'deadline' | 'stopped';

/** Checks a downloaded file (at its `.part` path) before it takes its real name; says what is wrong, or null. */
type DownloadCheck = (part: string, linked: PublishedFile) => Promise<string | null>;

async function downloadWithRetries(url: string, target: string, file: string, options: PullOptions, check: DownloadCheck): Promise<number> {
  const deadline = Date.now() + (options.fileDeadlineMs ?? DEFAULT_FILE_DEADLINE_MS);
  return withRetries(url, options, deadline, () =>
    downloadFile(url, target, { deadline, stallMs: options.stallMs ?? DEFAULT_STALL_MS, signal: options.signal }, check, (bytesDone, bytesTotal, state) =>
      options.onProgress?.({ file, bytesDone, bytesTotal, state }),
    ),
  );
}

/**
 * A failure worth trying again: a 5xx or 429, a network failure, a download dropped as stalled or
 * cut short, a damaged file. Any other 4xx is the request's fault, and a stop or a passed deadline
 * is final.
 */
function retryable(error: unknown): boolean {
  if (!(error instanceof ModelDownloadError)) return false;
  if (error.status !== undefined) return error.status >= 500 || error.status === 429;
  return error.cutoff !== 'deadline' && error.cutoff !== 'stopped';
}

/**
 * Runs one request with `options.attempts` tries, backing off exponentially with jitter between
 * them (p-retry), and waiting at least what a 429's or 503's `Retry-After` asks. Gives up at
 * `deadline` (epoch ms): a server that asks for a wait past it fails the request at once.
 */
async function withRetries<T>(url: string, options: PullOptions, deadline: number, attempt: () => Promise<T>): Promise<T> {
  try {
    return await pRetry(
      async () => {
        try {
          return await attempt();
        } catch (error) {
          throw retryable(error) ? error : new AbortError(error as Error);
        }
      },
      {
        retries: Math.max(0, (options.attempts ?? DEFAULT_ATTEMPTS) - 1),
        minTimeout: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
        maxTimeout: MAX_RETRY_DELAY_MS,
        randomize: true,
        maxRetryTime: Math.max(0, deadline - Date.now()),
        signal: options.signal,
        onFailedAttempt: async ({ error, retriesLeft }) => {
          const wait = error instanceof ModelDownloadError ? error.retryAfterMs : undefined;
          if (wait === undefined || retriesLeft === 0) return;
          if (Date.now() + wait > deadline) {
            throw new ModelDownloadError(url, `${error.message}; it asks to be retried in ${Math.ceil(wait / 1000)} s, past the deadline (translation.downloadFileSeconds)`, (error as ModelDownloadError).status);
          }
          // p-retry's backoff follows this wait: Retry-After is a lower bound, the backoff still spreads clients out.
          await sleep(wait, undefined, { signal: options.signal });
        },
      },
    );
  } catch (error) {
    // A stop that lands between attempts rejects with the signal's reason rather than a download error.
    if (options.signal?.aborted && !(error instanceof ModelDownloadError)) {
      throw new ModelDownloadError(url, `download of ${url} was stopped; run the pull again to resume`, undefined, 'stopped');
    }
    throw error;
  }
}

/**
 * `Retry-After` of a 429 or 503, in ms from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable, and for other statuses.
 */
function retryAfterMs(response: Response): number | undefined {
  if (response.status !== 429 && response.status !== 503) return undefined;
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** fetch refuses a URL with credentials, and a message would print them: refuse such a mirror up front, without them. */
function assertNoCredentials(mirror: string): void {
  const url = URL.canParse(mirror) ? new URL(mirror) : null;
  if (url && (url.username || url.password)) {
    url.username = '';
    url.password = '';
    throw new ModelDownloadError(url.href, `the mirror URL ${url.href} (credentials hidden) carries a user name or password in it, which newsbridge does not send; give the mirror URL without them`);
  }
}

interface DownloadLimits {
  /** Epoch ms by which the file must be complete. */
  deadline: number;
  stallMs: number;
  signal?: AbortSignal;
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

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** One attempt at one file; resumes from `<target>.part`. Returns the file's size. */
async function downloadFile(
  url: string,
  target: string,
  limits: DownloadLimits,
  check: DownloadCheck,
  progress: (done: number, total: number | null, state: PullProgress['state']) => void,
): Promise<number> {
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
  watch: ReturnType<typeof downloadWatch>,
  check: DownloadCheck,
  progress: (done: number, total: number | null, state: PullProgress['state']) => void,
): Promise<number> {
  let linked: PublishedFile = {};
  const part = `${target}.part`;
  // Open before fetching so the body is read as soon as it arrives: a stream that errors drops
  // whatever it had buffered and not yet handed out.
  const handle = await open(part, 'a');
  let done = 0;
  let total: number | null;
  try {
    const offset = (await handle.stat()).size;
    let response: Response;
    // The watch's signal cuts a server that does not answer, stops sending, or is too slow overall,
    // and a pull the user stops: a network that drops packets cannot hang a pull (or a run).
    try {
      response = await fetch(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal: watch.signal });
    } catch (error) {
      throw new ModelDownloadError(url, `could not reach ${url}: ${(error as Error).cause ?? (error as Error).message}`);
    }
    watch.alive();
    linked = linkedHeaders(response.headers);
    if (response.status === 206) {
      const range = CONTENT_RANGE.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== offset) {
        await response.body?.cancel();
        await handle.truncate(0);
        throw new ModelDownloadError(url, `${url} answered a resume request with an unexpected range; the partial file was discarded, run the pull again`);
      }
      done = offset;
      total = range[3] === '*' ? null : Number(range[3]);
    } else if (response.status === 416 && offset > 0) {
      // The .part already holds the whole file when the server says the range starts past its end.
      await response.body?.cancel();
      const range = /^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== offset) {
        await handle.truncate(0);
        throw new ModelDownloadError(url, `${url} rejected the resume request; the partial file was discarded, run the pull again`);
      }
      done = offset;
      total = offset;
    } else if (response.status === 200) {
      // The server ignored the Range header (or there was nothing to resume): start from zero.
      if (offset > 0) await handle.truncate(0);
      const length = response.headers.get('content-length');
      total = length === null ? null : Number(length);
    } else {
      await response.body?.cancel();
      throw new ModelDownloadError(url, `${url} answered ${response.status} ${response.statusText}: ${statusHint(response.status)}`, response.status, undefined, retryAfterMs(response));
    }

    progress(done, total, 'downloading');
    if (response.status !== 416 && response.body) {
      try {
        // Each read races the watch: an abort that lands between reads must not wait on a stream
        // that may never settle.
        const reader = response.body.getReader();
        try {
          for (;;) {
            const { done: ended, value: chunk } = await Promise.race([reader.read(), watch.aborted]);
            if (ended) break;
            watch.alive();
            await handle.write(chunk);
            done += chunk.byteLength;
            progress(done, total, 'downloading');
          }
        } finally {
          reader.cancel().catch(() => undefined);
        }
      } catch (error) {
        throw new ModelDownloadError(
          url,
          `download of ${url} was interrupted after ${done} bytes (${(error as Error).message}); run the pull again to resume`,
        );
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (total !== null && done !== total) {
    throw new ModelDownloadError(url, `download of ${url} stopped at ${done} of ${total} bytes; run the pull again to resume`);
  }
  const problem = await check(part, linked);
  if (problem) {
    await rm(part, { force: true });
    throw new ModelDownloadError(
      url,
      `${url} sent a file that ${problem}; it was discarded, not installed. The mirror is serving damaged or wrong files: try again, or use another --mirror`,
    );
  }
  await rename(part, target);
  await syncDir(path.dirname(target));
  progress(done, done, 'done');
  return done;
}

function statusHint(status: number): string {
  if (status === 404) return 'check the model id and revision in pipeline.yaml (translation.models) and the mirror URL';
  if (status === 401 || status === 403) return 'the server refused access; check the mirror URL';
  if (status === 429) return 'the server is limiting requests; run the pull again later';
  return 'the server failed; run the pull again later';
}

/** Makes a rename durable: the directory entry is synced, not only the file. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
  await syncDir(path.dirname(file));
}

/** A configured model with what the store needs to find it and name it in messages. */
export interface ConfiguredModel extends ModelSpec {
  lang: LanguageCode;
  dir: string;
  label: ModelLabel;
}

export function configuredModels(models: Record<LanguageCode, ModelSpec>, modelsDir: string): ConfiguredModel[] {
  return Object.entries(models).map(([lang, spec]) => ({
    lang,
    ...spec,
    dir: modelDirOf(modelsDir, spec.id),
    label: { name: `${spec.id} (${lang})`, fix: `run \`${pullCommand(lang, modelsDir)}\`` },
  }));
}

/** What the hub publishes about a file: its size and, for LFS files (the ONNX weights), its sha256. */
export interface PublishedFile {
  bytes?: number;
  sha256?: string;
}

/** The part of the hub's file list (`/api/models/<id>/revision/<revision>?blobs=true`) the store reads. */
const HubFileList = z.object({
  siblings: z.array(
    z.object({
      rfilename: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      lfs: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).optional(),
    }),
  ),
});

/**
 * The hub's list of a revision's files, `<mirror>/api/models/<id>/revision/<revision>?blobs=true`:
 * `siblings[]` with `rfilename`, `size` and, for LFS files, `lfs: { sha256, size }`. Null only when
 * the list is not published (404: a mirror without the API, which still sends the resolve
 * responses' `X-Linked-Size`/`X-Linked-Etag`, and the format checks are what is left). Any other
 * failure — another 4xx, a 5xx or a network error after the retries, a list that is not JSON or
 * not of that shape — throws: the sha256 check is never dropped without saying so.
 */
async function publishedFiles(options: PullOptions): Promise<Map<string, PublishedFile> | null> {
  const url = `${options.mirror.replace(/\/+$/, '')}/api/models/${options.id}/revision/${encodeURIComponent(options.revision)}?blobs=true`;
  const failed = (problem: string, fix: string, response?: Response) =>
    new ModelDownloadError(
      url,
      `the hub's file list of ${options.id}@${options.revision} (${url}) ${problem}; without it the files cannot be checked against the sha256 the hub publishes, so none was downloaded. Fix: ${fix}`,
      response?.status,
      undefined,
      response && retryAfterMs(response),
    );
  const deadline = Date.now() + (options.fileDeadlineMs ?? DEFAULT_FILE_DEADLINE_MS);
  const text = await withRetries(url, options, deadline, async () => {
    const timeout = AbortSignal.timeout(options.stallMs ?? DEFAULT_STALL_MS);
    try {
      const response = await fetch(url, { signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) {
        await response.body?.cancel();
        const status = `${response.status} ${response.statusText}`;
        const fix = response.status >= 500 || response.status === 429 ? 'run the pull again later, or use another --mirror' : 'check the mirror URL and that the model is public';
        throw failed(`answered ${status}`, fix, response);
      }
      return await response.text();
    } catch (error) {
      if (error instanceof ModelDownloadError) throw error;
      if (options.signal?.aborted) throw new ModelDownloadError(url, `reading the hub's file list of ${options.id} (${url}) was stopped; run the pull again`, undefined, 'stopped');
      throw failed(`could not be reached (${String((error as Error).cause ?? (error as Error).message)})`, 'check the network and the mirror URL, and run the pull again');
    }
  });
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw failed(`is not JSON (${(error as Error).message}; it starts ${JSON.stringify(text.slice(0, 40))})`, 'the mirror does not serve the hub API correctly: use another --mirror');
  }
  const list = HubFileList.safeParse(json);
  if (!list.success) {
    const issue = list.error.issues[0]!;
    throw failed(`is not a list of the revision's files (${issue.path.join('.') || 'the answer'}: ${issue.message})`, 'the mirror does not serve the hub API correctly: use another --mirror');
  }
  const files = new Map<string, PublishedFile>();
  for (const sibling of list.data.siblings) {
    const bytes = sibling.lfs?.size ?? sibling.size;
    files.set(sibling.rfilename, { ...(bytes !== undefined ? { bytes } : {}), ...(sibling.lfs ? { sha256: sibling.lfs.sha256 } : {}) });
  }
  return files;
}

/** `X-Linked-Size` and `X-Linked-Etag` (the sha256 of an LFS file, quoted) of a resolve response. */
function linkedHeaders(headers: Headers): PublishedFile {
  const size = Number(headers.get('x-linked-size') ?? NaN);
  const etag = /^(?:W\/)?"?([0-9a-f]{64})"?$/.exec(headers.get('x-linked-etag') ?? '')?.[1];
  return { ...(Number.isSafeInteger(size) ? { bytes: size } : {}), ...(etag ? { sha256: etag } : {}) };
}

/**
 * What is wrong with a model file, or null: its size or sha256 differs from what the hub publishes,
 * or it does not parse as what its name says (JSON; an ONNX model: a protobuf whose top-level fields
 * include the IR version and the graph). An HTML error page served with status 200 fails here.
 */
export async function fileProblem(fullPath: string, file: string, published: PublishedFile = {}): Promise<string | null> {
  const size = await fileSize(fullPath);
  if (size === null) return 'is missing';
  if (published.bytes !== undefined && size !== published.bytes) return `has ${size} bytes where the hub publishes ${published.bytes}`;
  if (published.sha256 !== undefined) {
    const sha256 = await sha256File(fullPath);
    if (sha256 !== published.sha256) return `has sha256 ${sha256} where the hub publishes ${published.sha256}`;
  }
  if (file.endsWith('.json')) {
    const text = await readFile(fullPath, 'utf8');
    try {
      JSON.parse(text);
    } catch (error) {
      return `is not valid JSON (${(error as Error).message}; it starts ${JSON.stringify(text.slice(0, 40))})`;
    }
  } else if (file.endsWith('.onnx')) {
    const problem = onnxProblem(await readFile(fullPath));
    if (problem) return `is not an ONNX model (${problem})`;
  }
  return null;
}

/** Walks the top-level protobuf fields of an ONNX ModelProto without decoding the weights. */
function onnxProblem(bytes: Uint8Array): string | null {
  const reader = protobuf.Reader.create(bytes);
  const fields = new Set<number>();
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 0) return `field 0 at byte ${reader.pos}`;
      fields.add(tag >>> 3);
      reader.skipType(tag & 7);
    }
  } catch (error) {
    return `${(error as Error).message}; it starts ${JSON.stringify(Buffer.from(bytes.subarray(0, 24)).toString('latin1'))}`;
  }
  // ModelProto: 1 ir_version, 7 graph.
  if (!fields.has(1) || !fields.has(7)) return 'no IR version or graph';
  return null;
}
