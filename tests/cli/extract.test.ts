import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGLISH_PARAGRAPHS, NOT_FOUND_PAGE, newsPage } from '../fixtures/pages.js';
import { runCli } from './cli-run.js';

let dir: string;
let page: string;
let missing: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'newsbridge-extract-'));
  page = path.join(dir, 'bridge.html.gz');
  missing = path.join(dir, 'missing.html');
  await writeFile(page, gzipSync(newsPage({ title: 'Council rebuilds the bridge', paragraphs: ENGLISH_PARAGRAPHS, lang: 'en' })));
  await writeFile(missing, NOT_FOUND_PAGE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('newsbridge extract', () => {
  it('prints the title, then one line per paragraph', async () => {
    const result = await runCli(['extract', page]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${['Council rebuilds the bridge', ...ENGLISH_PARAGRAPHS].join('\n')}\n`);
  });

  it('--jsonl: {id, title, text, meta}; a page with no article is said on stderr and the exit is 2', async () => {
    const result = await runCli(['extract', '--jsonl', missing, page]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${missing}: no article in this page`);
    const records = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records).toEqual([
      {
        id: 'bridge',
        title: 'Council rebuilds the bridge',
        text: ENGLISH_PARAGRAPHS.join('\n'),
        meta: {
          title: 'Council rebuilds the bridge',
          byline: 'Jane Reporter',
          published: '2024-03-05T08:30:00Z',
          canonicalUrl: 'https://courier.example/news/2024/03/farmers-plan',
          siteName: 'Daily Courier',
          lang: 'en',
          extraction: 'readability',
          removed: expect.arrayContaining([{ text: 'Wheat prices climb to their highest level in five years', reason: 'link-list' }]),
        },
      },
    ]);
  });
});
