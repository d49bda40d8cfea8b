import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalUrl, pageFileName } from '../../src/fetch/canonical-url.js';
import { articleOutputSchema } from '../../src/output/schema.js';
import { type NewsSite, pagePath, startNewsSite } from '../fetch/news-site.js';

const cli = path.resolve('src/cli/index.ts');

/** Runs `newsbridge <args>` through tsx; `CI` is set so no progress bar is drawn. */
function newsbridge(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

let site: NewsSite;
let scratch: string;
beforeAll(async () => {
  site = await startNewsSite();
  scratch = await mkdtemp(path.join(tmpdir(), 'newsbridge-run-fetch-'));
});
afterAll(async () => {
  await site.close();
  await rm(scratch, { recursive: true, force: true });
});

/** The two sample articles /small.xml lists. */
const PAGES = [pagePath(45), pagePath(49)];
const fileOf = (page: string) => pageFileName(canonicalUrl(`${site.origin}${page}`));

/** A workspace (tiny models, its own cache) that fetches `feeds` into its input/web; `run` args for it. */
async function workspace(name: string, feeds: string[]): Promise<{ root: string; args: string[] }> {
  const root = path.join(scratch, name);
  await mkdir(path.join(root, 'input'), { recursive: true });
  const config = path.join(root, 'pipeline.yaml');
  const fetching = [
    'input:',
    '  feeds:',
    ...feeds.map((feed) => `    - ${site.origin}${feed}`),
    'fetch:',
    `  dir: ${JSON.stringify(path.join(root, 'input', 'web'))}`,
    `  state: ${JSON.stringify(path.join(root, 'state', 'fetch.sqlite'))}`,
    '  contact: https://example.test/contact',
    '  allowPrivateAddresses: true',
    '  minDelaySeconds: 0',
  ];
  await writeFile(
    config,
    [
      ...(feeds.length > 0 ? fetching : []),
      'translation:',
      '  download: false',
      // The tiny models decode to their length limit; a lower one keeps the runs short.
      '  maxNewTokensRatio: 1',
      'cache:',
      `  path: ${JSON.stringify(path.join(root, 'cache.sqlite'))}`,
    ].join('\n'),
  );
  const args = ['--config', config, '--input', path.join(root, 'input'), '--output', path.join(root, 'output')];
  return { root, args: [...args, '--models-dir', inject('modelsDir')] };
}

/**
 * Every output file but the digest and the run report (they carry the run's times), with the workspace's
 * own folder made neutral, and the article JSON without its timings and its `fetched` (compared apart).
 */
async function outputs(root: string): Promise<Map<string, string>> {
  const dir = path.join(root, 'output');
  const names = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && !['index.html', 'run-report.json'].includes(entry.name))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
  return new Map(
    await Promise.all(
      names.map(async (name) => {
        let text = (await readFile(path.join(dir, name), 'utf8')).replaceAll(root, '<root>');
        if (name.endsWith('.json')) {
          const { fetched: _, timings: __, ...rest } = JSON.parse(text);
          text = JSON.stringify(rest);
        }
        return [name, text] as [string, string];
      }),
    ),
  );
}

describe('newsbridge run --fetch', () => {
  it('gives the outputs `run` gives on the same pages saved by hand, plus their URL and feed date', async () => {
    const fetched = await workspace('fetched', ['/small.xml']);
    const result = await newsbridge(['run', '--fetch', ...fetched.args]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^fetch: 1 feed \(1 fetched\); 2 pages: 2 fetched\n2 articles: 2 ok, /);

    const byHand = await workspace('by-hand', []);
    for (const page of PAGES) {
      const file = path.join(byHand.root, 'input', 'web', fileOf(page));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, site.pages.get(page)!);
    }
    expect((await newsbridge(['run', ...byHand.args])).code).toBe(0);

    const mine = await outputs(fetched.root);
    expect([...mine.keys()].filter((name) => name.endsWith('.json'))).toHaveLength(2);
    expect(mine).toEqual(await outputs(byHand.root));

    // What fetching adds: each article's URL and feed date in its JSON and in the digest.
    const digest = await readFile(path.join(fetched.root, 'output', 'index.html'), 'utf8');
    for (const name of [...mine.keys()].filter((name) => name.endsWith('.json') && name !== 'manifest.jsonl')) {
      const output = articleOutputSchema.parse(JSON.parse(await readFile(path.join(fetched.root, 'output', name), 'utf8')));
      expect(PAGES.map((page) => `${site.origin}${page}`)).toContain(output.fetched?.url);
      expect(output.fetched).toMatchObject({
        feed: `${site.origin}/small.xml`,
        feedDate: expect.stringMatching(/^2026-12-07T06:4[59]:00\.000Z$/),
      });
      expect(digest).toContain(`href="${output.fetched!.url}"`);
      expect(digest).toContain(`datetime="${output.fetched!.feedDate}"`);
    }

    // The next night one page was corrected: only it is fetched again and run again.
    const edited = PAGES[1]!;
    const added = 'Giá xăng tại trạm số 7 đã giảm thêm từ sáng nay.';
    site.edit(edited, Buffer.from(site.pages.get(edited)!.toString('utf8').replace('</article>', `<p>${added}</p>\n</article>`)));
    const next = await newsbridge(['run', '--fetch', ...fetched.args]);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(
      /^fetch: 1 feed \(1 not modified\); 2 pages: 1 fetched, 1 not modified\n2 articles: 1 ok, 0 partial, 0 failed, 1 skipped/,
    );
    const rerun = articleOutputSchema.parse(
      JSON.parse(await readFile(path.join(fetched.root, 'output', 'web', fileOf(edited).replace(/\.html$/, '.json')), 'utf8')),
    );
    expect(rerun.paragraphs.flatMap((paragraph) => paragraph.sentences.map((sentence) => sentence.source))).toContain(added);
  }, 300_000);
});
