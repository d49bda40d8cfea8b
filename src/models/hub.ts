/**
 * The hub's HTTP API as the store uses it, on the hub or a mirror with its URL layout: a
 * revision's file list with sizes and sha256s, the resolve URL of each file and what its headers
 * say about it.
 */
import { z } from 'zod';
import { ModelDownloadError } from '../errors.js';
import { cardLicense } from './license.js';
import { retryAfterMs, type RetryPolicy, withRetries } from './retry.js';

/** A model revision on the hub or a mirror. */
export interface HubRevision {
  /** Base URL with the hub's layout, e.g. `https://huggingface.co`. */
  mirror: string;
  id: string;
  revision: string;
}

/** What the hub publishes about a file: its size and, for LFS files (the ONNX weights), its sha256. */
export interface PublishedFile {
  bytes?: number;
  sha256?: string;
}

export function fileUrl(mirror: string, id: string, revision: string, file: string): string {
  return `${mirror.replace(/\/+$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
}

function fileListUrl({ mirror, id, revision }: HubRevision): string {
  return `${mirror.replace(/\/+$/, '')}/api/models/${id}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

/** fetch refuses a URL with credentials, and a message would print them: refuse such a mirror up front, without them. */
export function assertNoCredentials(mirror: string): void {
  const url = URL.canParse(mirror) ? new URL(mirror) : null;
  if (url && (url.username || url.password)) {
    url.username = '';
    url.password = '';
    throw new ModelDownloadError(
      url.href,
      `the mirror URL ${url.href} (credentials hidden) carries a user name or password in it, which newsbridge does not send; give the mirror URL without them`,
    );
  }
}

/** What the hub publishes about a revision: its files and the licence its model card gives (null when none). */
export interface PublishedRevision {
  files: Map<string, PublishedFile>;
  license: string | null;
}

/** The part of the hub's file list (`/api/models/<id>/revision/<revision>?blobs=true`) the store reads. */
const HubFileList = z.object({
  cardData: z.object({ license: z.unknown().optional() }).optional(),
  siblings: z.array(
    z.object({
      rfilename: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      lfs: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).optional(),
    }),
  ),
});

/** How long the file list may take: no byte for `stallMs` fails an attempt, `deadline` (epoch ms) all of them. */
export interface FileListLimits extends RetryPolicy {
  stallMs: number;
  deadline: number;
}

type FileListFailure = (problem: string, fix: string, response?: Response) => ModelDownloadError;

/**
 * The hub's list of a revision's files, `<mirror>/api/models/<id>/revision/<revision>?blobs=true`:
 * `siblings[]` with `rfilename`, `size` and, for LFS files, `lfs: { sha256, size }`. Null only when
 * the list is not published (404: a mirror without the API, which still sends the resolve
 * responses' `X-Linked-Size`/`X-Linked-Etag`, and the format checks are what is left). Any other
 * failure — another 4xx, a 5xx or a network error after the retries, a list that is not JSON or
 * not of that shape — throws: the sha256 check is never dropped without saying so.
 */
export async function publishedFiles(revision: HubRevision, limits: FileListLimits): Promise<PublishedRevision | null> {
  const url = fileListUrl(revision);
  const failed: FileListFailure = (problem, fix, response) =>
    new ModelDownloadError(
      url,
      `the hub's file list of ${revision.id}@${revision.revision} (${url}) ${problem}; without it the files cannot be checked against the sha256 the hub publishes, so none was downloaded. Fix: ${fix}`,
      response?.status,
      undefined,
      response && retryAfterMs(response),
    );
  const text = await withRetries(url, limits, limits.deadline, () => fetchFileList(url, revision, limits, failed));
  return text === null ? null : parseFileList(text, failed);
}

/** One attempt at the file list: its text, or null when the mirror does not publish it (404). */
async function fetchFileList(url: string, revision: HubRevision, limits: FileListLimits, failed: FileListFailure): Promise<string | null> {
  const timeout = AbortSignal.timeout(limits.stallMs);
  try {
    const response = await fetch(url, { signal: limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel();
      const status = `${response.status} ${response.statusText}`;
      const fix =
        response.status >= 500 || response.status === 429
          ? 'run the pull again later, or use another --mirror'
          : 'check the mirror URL and that the model is public';
      throw failed(`answered ${status}`, fix, response);
    }
    return await response.text();
  } catch (error) {
    if (error instanceof ModelDownloadError) throw error;
    if (limits.signal?.aborted)
      throw new ModelDownloadError(
        url,
        `reading the hub's file list of ${revision.id} (${url}) was stopped; run the pull again`,
        undefined,
        'stopped',
      );
    throw failed(
      `could not be reached (${String((error as Error).cause ?? (error as Error).message)})`,
      'check the network and the mirror URL, and run the pull again',
    );
  }
}

function parseFileList(text: string, failed: FileListFailure): PublishedRevision {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw failed(
      `is not JSON (${(error as Error).message}; it starts ${JSON.stringify(text.slice(0, 40))})`,
      'the mirror does not serve the hub API correctly: use another --mirror',
    );
  }
  const list = HubFileList.safeParse(json);
  if (!list.success) {
    const issue = list.error.issues[0]!;
    throw failed(
      `is not a list of the revision's files (${issue.path.join('.') || 'the answer'}: ${issue.message})`,
      'the mirror does not serve the hub API correctly: use another --mirror',
    );
  }
  const files = new Map<string, PublishedFile>();
  for (const sibling of list.data.siblings) {
    const bytes = sibling.lfs?.size ?? sibling.size;
    files.set(sibling.rfilename, { ...(bytes !== undefined ? { bytes } : {}), ...(sibling.lfs ? { sha256: sibling.lfs.sha256 } : {}) });
  }
  return { files, license: cardLicense(list.data.cardData) };
}

/** `X-Linked-Size` and `X-Linked-Etag` (the sha256 of an LFS file, quoted) of a resolve response. */
export function linkedHeaders(headers: Headers): PublishedFile {
  const size = Number(headers.get('x-linked-size') ?? NaN);
  const etag = /^(?:W\/)?"?([0-9a-f]{64})"?$/.exec(headers.get('x-linked-etag') ?? '')?.[1];
  return { ...(Number.isSafeInteger(size) ? { bytes: size } : {}), ...(etag ? { sha256: etag } : {}) };
}
