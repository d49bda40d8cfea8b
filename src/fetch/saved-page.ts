import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../output/atomic-write.js';

/**
 * A fetched page on disk: `<name>.html`, its bytes as they arrived, and beside it `<name>.html.fetch.json`,
 * what the response and the feed said of it. The sidecar names the page's sha256, so it only ever
 * speaks for the bytes it was written with: it is written first and the page second (each atomically),
 * and a kill between the two leaves a sidecar that no longer matches, which is then ignored (the page
 * is fetched again in full; never read with another page's charset). Run reads the page, and the
 * sidecar's charset, URL and feed date with it; a page saved by hand needs no sidecar.
 */

export const SIDECAR_SUFFIX = '.fetch.json';

export const savedPageSchema = z.strictObject({
  schemaVersion: z.literal(1),
  /** Canonical URL: what the feed linked to, tracking parameters and fragment removed. */
  url: z.url({ protocol: /^https?$/ }),
  /** Where the page was fetched from after redirects. */
  finalUrl: z.url({ protocol: /^https?$/ }),
  /** The feed or sitemap (as in input.feeds) that listed it first. */
  feed: z.string(),
  title: z.string().nullable(),
  /** The item's date in the feed (ISO 8601 when it parsed as a date). */
  feedDate: z.string().nullable(),
  /** The language hint of the feed's input.feeds entry. */
  language: z.string().nullable(),
  /** The charset of the response's Content-Type; null when it named none. */
  charset: z.string().nullable(),
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  fetchedAt: z.string(),
  /** sha256 of the page's bytes, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export type SavedPage = z.infer<typeof savedPageSchema>;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Saves a page and its sidecar so that no reader ever takes a partial page (see above). */
export async function savePage(path: string, bytes: Uint8Array, page: Omit<SavedPage, 'schemaVersion' | 'sha256'>): Promise<SavedPage> {
  const saved: SavedPage = { schemaVersion: 1, ...page, sha256: sha256(bytes) };
  await writeFileAtomic(`${path}${SIDECAR_SUFFIX}`, `${JSON.stringify(saved, null, 2)}\n`);
  await writeFileAtomic(path, bytes);
  return saved;
}

/**
 * The sidecar of the page at `path` when it speaks for `bytes` (the page's current content); null when
 * there is none, it is not a sidecar this version wrote, or it was written for other bytes.
 */
export async function sidecarFor(path: string, bytes: Uint8Array): Promise<SavedPage | null> {
  let text: string;
  try {
    text = await readFile(`${path}${SIDECAR_SUFFIX}`, 'utf8');
  } catch {
    return null;
  }
  let parsed: ReturnType<typeof savedPageSchema.safeParse>;
  try {
    parsed = savedPageSchema.safeParse(JSON.parse(text));
  } catch {
    return null;
  }
  return parsed.success && parsed.data.sha256 === sha256(bytes) ? parsed.data : null;
}

/** The page saved at `path` and its sidecar, when both are there and agree; null otherwise. */
export async function savedPage(path: string): Promise<SavedPage | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return null;
  }
  return sidecarFor(path, bytes);
}
