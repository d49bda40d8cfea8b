import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { savedPage, savePage, SIDECAR_SUFFIX, sidecarFor } from '../../src/fetch/saved-page.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-saved-page-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const about = {
  url: 'https://news.test/a/one.html',
  finalUrl: 'https://www.news.test/a/one.html',
  feed: 'https://news.test/feed.xml',
  title: 'One',
  feedDate: '2026-12-07T06:00:00.000Z',
  language: 'ar',
  charset: 'windows-1256',
  etag: '"abc"',
  lastModified: 'Mon, 07 Dec 2026 06:00:00 GMT',
  fetchedAt: '2026-12-07T23:00:00.000Z',
};

describe('savePage and sidecarFor', () => {
  it('saves the bytes untouched with a sidecar that speaks for exactly them, and no temp file', async () => {
    const page = path.join(dir, 'one.html');
    const bytes = Buffer.from([0x3c, 0x70, 0x3e, 0xc7, 0xe1, 0x3c, 0x2f, 0x70, 0x3e]);
    const saved = await savePage(page, bytes, about);
    expect(await savedPage(page)).toEqual(saved);
    expect(saved).toMatchObject({ schemaVersion: 1, ...about });
    expect((await readdir(dir)).sort()).toEqual(['one.html', `one.html${SIDECAR_SUFFIX}`]);
  });

  it('ignores a sidecar left beside other bytes (a kill between the two writes, or a page replaced by hand)', async () => {
    const page = path.join(dir, 'two.html');
    await savePage(page, Buffer.from('<p>first</p>'), about);
    await writeFile(page, '<p>second</p>');
    expect(await savedPage(page)).toBeNull();
    expect(await sidecarFor(page, Buffer.from('<p>first</p>'))).not.toBeNull();
  });

  it('ignores a missing, unreadable or foreign sidecar', async () => {
    const page = path.join(dir, 'three.html');
    await writeFile(page, '<p>by hand</p>');
    expect(await savedPage(page)).toBeNull();
    await writeFile(`${page}${SIDECAR_SUFFIX}`, '{not json');
    expect(await savedPage(page)).toBeNull();
    await writeFile(`${page}${SIDECAR_SUFFIX}`, JSON.stringify({ schemaVersion: 2, url: about.url }));
    expect(await savedPage(page)).toBeNull();
    expect(await savedPage(path.join(dir, 'absent.html'))).toBeNull();
  });
});
